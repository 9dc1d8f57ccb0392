package dev.airlock.bench;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.AgentPage;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.AuditEventPage;
import dev.airlock.sdk.model.Container;
import dev.airlock.sdk.model.ContainerCreate;
import dev.airlock.sdk.model.ContainerState;
import dev.airlock.sdk.model.Image;
import dev.airlock.sdk.model.ImageSpec;
import dev.airlock.sdk.model.IsolationLevel;
import dev.airlock.sdk.model.JoinTokenCreate;
import dev.airlock.sdk.model.ProvisionerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;

/**
 * Container request → ready, run by {@code bench/run-containers.sh} against a platform, a signal
 * node and a provisioner it started (issue 4). A benchmark, not a test. In one bounded run:
 *
 * <ol>
 *   <li>{@code POST /containers} while no provisioner is registered: the 503's latency;
 *   <li>the floor as the issue words it: a bare {@code docker run} of the same image with the
 *       settings of the provisioner's {@code standard} profile and a fresh single-use join token,
 *       timed from before {@code docker run} until the agent is listed online, polled every 20 ms;
 *   <li>cold, sequential: {@code POST /containers} then {@code GET …?wait=ready&timeoutSeconds=60},
 *       timed from before the POST to the ready answer, each just after a quiet floor run (polled
 *       every 250 ms, timed by the agent's {@code enrolledAt}): the 20 ms poll slows the agent's
 *       boot on 2 cores, and pairing gives both the same machine and JIT state;
 *   <li>10 quiet floor runs at once, then 10 cold requests at once;
 *   <li>from the warm pool, sequential (pool of 2) and concurrent (pool of 10): {@code POST} alone,
 *       which answers {@code ready} at once when a warm container is taken.
 * </ol>
 *
 * <p>It prints a table (phase, n, p50, p95, max in ms), the host's cores and load, the cold path
 * split by the audit events' times ({@code container.create} → {@code container.provisioned} →
 * {@code container.ready}), and the failures; it exits 1 when any container failed and 3 when the
 * time limit cut the run short. Every wait has a deadline. Options {@code --key=value}: {@code url,
 * api-key, docker, docker-host, signal-url, provisioner-url, image-ref, count (20), concurrency
 * (10), unavailable (20), time-limit (1080s), run (a tag for the floor's names)}.
 */
public final class ContainerBench {

  private static final String IMAGE = "bench";
  private static final String PROVISIONER = "bench";
  private static final Duration CALL = Duration.ofSeconds(30);
  private static final Duration READY_WAIT = Duration.ofSeconds(60);
  private static final Duration GONE_WAIT = Duration.ofSeconds(60);
  private static final Duration POOL_WAIT = Duration.ofSeconds(240);
  private static final long FAST_POLL_MS = 20;
  private static final long SLOW_POLL_MS = 250;
  private static final int WARM_UP_PAIRS = 2;
  private static final Pattern LEADING_UUID =
      Pattern.compile("^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");

  /** The provisioner's {@code standard} profile, as plain {@code docker run} options. */
  private static final List<String> STANDARD_PROFILE =
      List.of(
          "--network",
          "host",
          "--read-only",
          "--tmpfs",
          "/tmp:rw,exec,nosuid,nodev,mode=1777,size=256m",
          "--cap-drop",
          "ALL",
          "--cap-add",
          "CHOWN",
          "--cap-add",
          "SETUID",
          "--cap-add",
          "SETGID",
          "--cap-add",
          "DAC_OVERRIDE",
          "--cap-add",
          "FOWNER",
          "--cap-add",
          "KILL",
          "--security-opt",
          "no-new-privileges",
          "--ipc",
          "private",
          "--memory",
          "2g",
          "--memory-swap",
          "2g",
          "--cpus",
          "2",
          "--pids-limit",
          "1024",
          "--restart",
          "no",
          "-u",
          "10001");

  private final AirlockClient admin;
  private final Map<String, String> o;
  private final int count;
  private final int concurrency;
  private final String run;
  private final long runDeadline;
  private final List<Phase> phases = new ArrayList<>();
  private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
  private final List<Timed> coldSeq = Collections.synchronizedList(new ArrayList<>());
  private final List<Timed> coldConc = Collections.synchronizedList(new ArrayList<>());
  private boolean cutShort;

  private ContainerBench(Map<String, String> o) {
    this.o = o;
    this.admin =
        AirlockClient.builder()
            .baseUrl(o.get("url"))
            .responseTimeout(READY_WAIT.plusSeconds(30))
            .build()
            .withApiKey(o.get("api-key"));
    this.count = Integer.parseInt(o.getOrDefault("count", "20"));
    this.concurrency = Integer.parseInt(o.getOrDefault("concurrency", "10"));
    this.run = o.getOrDefault("run", Long.toHexString(System.currentTimeMillis()));
    this.runDeadline =
        System.nanoTime() + Duration.parse("PT" + o.getOrDefault("time-limit", "1080s")).toNanos();
  }

  public static void main(String[] args) {
    int status;
    try {
      status = new ContainerBench(SignalBench.options(args)).run();
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    // reactor-netty's event loops would otherwise keep the JVM alive.
    System.exit(status);
  }

  /** One row of the table, in µs. */
  private record Phase(String name, Histogram histogram, String note) {}

  /** A container as the driver saw it: when it asked (wall clock) and what it got. */
  private record Timed(UUID id, Instant asked, long micros, Container container) {}

  private int run() throws Exception {
    System.out.println("## Machine");
    System.out.println(Machine.describe());
    progress("define image " + IMAGE + " (" + o.get("image-ref") + ", standard, warmPool 0)");
    admin.images().createImage(imageSpec(0)).block(CALL);

    unavailable(Integer.parseInt(o.getOrDefault("unavailable", "20")));

    progress("register provisioner " + PROVISIONER + " at " + o.get("provisioner-url"));
    admin
        .provisioners()
        .createProvisioner(
            new ProvisionerSpec().name(PROVISIONER).url(o.get("provisioner-url")).maxContainers(60))
        .block(CALL);

    if (inTime()) {
      floor();
    }
    if (inTime()) {
      paired();
    }
    if (inTime()) {
      concurrent();
    }
    if (inTime()) {
      warmSequential();
    }
    if (inTime()) {
      warmConcurrent();
    }
    report();
    if (cutShort) {
      return 3;
    }
    return failures.isEmpty() ? 0 : 1;
  }

  // --- phases ----------------------------------------------------------------------------------

  /** No provisioner is registered yet: every request must be refused with 503 at once. */
  private void unavailable(int n) {
    progress("503 without a provisioner, " + n + " sequential requests");
    Histogram h = histogram();
    long first = -1;
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      try {
        Container created =
            admin
                .containers()
                .createContainer(new ContainerCreate().image(IMAGE), null)
                .block(CALL);
        failures.add("503 phase: request " + i + " was accepted: " + created.getId());
        continue;
      } catch (AirlockProblemException e) {
        long us = (System.nanoTime() - t0) / 1000;
        if (e.status() != 503) {
          failures.add("503 phase: request " + i + " answered " + e.status() + " " + e.detail());
          continue;
        }
        first = first < 0 ? us : first;
        h.recordValue(us);
      }
    }
    phases.add(
        new Phase(
            "503, no provisioner (sequential)",
            h,
            "first request " + ms(first) + " ms (included)"));
  }

  /**
   * The floor as the issue words it: a bare {@code docker run} of the same image, timed until the
   * agent is listed online, polled every 20 ms. That poll costs the platform CPU the booting agent
   * would otherwise have (2 cores), so {@link #paired()} takes the floor again with a 250 ms poll,
   * timed by the agent's {@code enrolledAt} (the platform's clock, which is this host's).
   */
  private void floor() throws Exception {
    progress("floor: 1 warm-up + " + count + " sequential bare docker run, 20 ms poll");
    Histogram seen = histogram();
    Histogram enrolled = histogram();
    Histogram dockerRun = histogram();
    for (int i = 0; i <= count && inTime(); i++) {
      Floor f = floorOne(run + "-" + i, FAST_POLL_MS);
      if (f == null) {
        continue;
      }
      if (i == 0) {
        progress("floor warm-up (not counted): " + ms(f.micros) + " ms");
        continue;
      }
      seen.recordValue(f.micros);
      dockerRun.recordValue(f.dockerRunMicros);
      if (f.enrolledMicros >= 0) {
        enrolled.recordValue(f.enrolledMicros);
      }
    }
    phases.add(
        new Phase(
            "floor: docker run → agent listed online", seen, "sequential, polled every 20 ms"));
    phases.add(
        new Phase(
            "  same runs: docker run → agent's enrolledAt",
            enrolled,
            "platform's clock, no poll lag"));
    phases.add(
        new Phase("  same runs: `docker run -d` returns", dockerRun, "create + start via the CLI"));
  }

  /**
   * Cold, sequential, each request paired with a quiet floor run just before it (250 ms poll, timed
   * by {@code enrolledAt}), so that both see the same machine and the same JIT warmth; the first
   * {@link #WARM_UP_PAIRS} pairs are not counted.
   */
  private void paired() throws Exception {
    progress("cold sequential, each after a quiet floor run: " + WARM_UP_PAIRS + " + " + count);
    Histogram quiet = histogram();
    Histogram cold = histogram();
    for (int i = 0; i < WARM_UP_PAIRS + count && inTime(); i++) {
      Floor f = floorOne(run + "-q" + i, SLOW_POLL_MS);
      Timed t = requestReady(false);
      if (t != null) {
        deleteAndAwait(List.of(t.id));
      }
      if (i < WARM_UP_PAIRS) {
        progress(
            "warm-up pair (not counted): floor "
                + (f == null ? "failed" : ms(f.enrolledMicros) + " ms")
                + ", cold "
                + (t == null ? "failed" : ms(t.micros) + " ms"));
        continue;
      }
      if (f != null && f.enrolledMicros >= 0) {
        quiet.recordValue(f.enrolledMicros);
      }
      if (t != null) {
        cold.recordValue(t.micros);
        coldSeq.add(t);
      }
    }
    phases.add(
        new Phase(
            "floor, quiet: docker run → agent's enrolledAt",
            quiet,
            "sequential, polled every 250 ms, paired with the cold row"));
    phases.add(new Phase("cold, sequential", cold, "POST → GET ?wait=ready answers ready"));
    phases.add(
        new Phase(
            "  same requests: POST → the container's readyAt",
            readyAt(coldSeq),
            "platform's clock: without the waiter's wake-up"));
  }

  /** {@code concurrency} quiet floor runs at once, then as many cold requests at once. */
  private void concurrent() throws Exception {
    progress("floor: " + concurrency + " concurrent bare docker run, 250 ms poll");
    Histogram together = histogram();
    ExecutorService pool = Executors.newFixedThreadPool(concurrency);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Floor>> futures = new ArrayList<>();
      for (int i = 0; i < concurrency; i++) {
        String tag = run + "-c" + i;
        futures.add(
            pool.submit(
                () -> {
                  go.await();
                  return floorOne(tag, SLOW_POLL_MS);
                }));
      }
      Thread.sleep(200);
      go.countDown();
      for (Future<Floor> f : futures) {
        Floor got = f.get(READY_WAIT.toSeconds() + 120, TimeUnit.SECONDS);
        if (got != null && got.enrolledMicros >= 0) {
          together.recordValue(got.enrolledMicros);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    phases.add(
        new Phase(
            "floor, " + concurrency + " concurrent: docker run → agent's enrolledAt",
            together,
            "polled every 250 ms"));
    if (!inTime()) {
      return;
    }
    progress("cold concurrent: " + concurrency + " at once");
    Histogram h = histogram();
    List<Timed> got = atOnce(concurrency, false);
    for (Timed t : got) {
      h.recordValue(t.micros);
      coldConc.add(t);
    }
    deleteAndAwait(got.stream().map(Timed::id).toList());
    phases.add(new Phase("cold, " + concurrency + " concurrent", h, "each from its own POST"));
    phases.add(
        new Phase(
            "  same requests: POST → the container's readyAt",
            readyAt(coldConc),
            "platform's clock: without the waiter's wake-up"));
  }

  /** One floor measurement, in µs; {@code enrolledMicros} is -1 when unknown. */
  private record Floor(long micros, long dockerRunMicros, long enrolledMicros) {}

  /**
   * Runs the image with a fresh single-use join token, waits until its agent is listed online, then
   * removes the container and revokes the agent (untimed); null (and a failure) when it did not
   * come online.
   */
  private Floor floorOne(String tag, long pollMillis) throws Exception {
    String hostname = "floor-" + tag;
    String name = "airlock-bench-floor-" + tag;
    String token =
        admin
            .agents()
            .createJoinToken(
                new JoinTokenCreate()
                    .kind(AgentKind.CONTAINER)
                    .maxUses(1)
                    .ttlSeconds(300)
                    .labels(Map.of("bench.floor", tag))
                    .description("bench floor " + tag))
            .block(CALL)
            .getToken();
    List<String> command = new ArrayList<>(docker());
    command.addAll(List.of("run", "-d", "--name", name, "--label", "dev.airlock.bench=" + run));
    command.addAll(STANDARD_PROFILE);
    command.addAll(
        List.of(
            "-e",
            "AIRLOCK_AGENT_SIGNAL_URL=" + o.get("signal-url"),
            "-e",
            "AIRLOCK_AGENT_JOIN_TOKEN=" + token,
            "-e",
            "AIRLOCK_AGENT_HOSTNAME=" + hostname,
            o.get("image-ref")));
    Instant asked = Instant.now();
    long t0 = System.nanoTime();
    Exec started = exec(command, Duration.ofSeconds(60));
    long tRun = System.nanoTime();
    Agent agent = null;
    if (started.exit != 0) {
      failures.add("floor " + tag + ": docker run exited " + started.exit + ": " + started.out);
    } else {
      long deadline = deadline(READY_WAIT);
      while (agent == null && System.nanoTime() < deadline) {
        AgentPage page =
            admin
                .agents()
                .listAgents(AgentKind.CONTAINER, true, List.of("bench.floor=" + tag), 10, null)
                .block(CALL);
        for (Agent a : page.getItems() == null ? List.<Agent>of() : page.getItems()) {
          if (hostname.equals(a.getHostname())) {
            agent = a;
          }
        }
        if (agent == null) {
          Thread.sleep(pollMillis);
        }
      }
      if (agent == null) {
        failures.add("floor " + tag + ": agent not online within " + READY_WAIT);
      }
    }
    long t1 = System.nanoTime();
    exec(withDocker("rm", "-f", name), Duration.ofSeconds(60));
    if (agent == null) {
      return null;
    }
    admin.agents().revokeAgent(agent.getId()).block(CALL);
    long enrolled =
        agent.getEnrolledAt() == null ? -1 : micros(asked, agent.getEnrolledAt().toInstant());
    return new Floor((t1 - t0) / 1000, (tRun - t0) / 1000, enrolled);
  }

  /** From just before each POST to the container's {@code readyAt} (the platform's clock). */
  private static Histogram readyAt(List<Timed> timed) {
    Histogram h = histogram();
    for (Timed t : timed) {
      if (t.container.getReadyAt() != null) {
        h.recordValue(micros(t.asked, t.container.getReadyAt().toInstant()));
      }
    }
    return h;
  }

  private void warmSequential() throws InterruptedException {
    progress("warm sequential: warmPool 2, " + count + " requests");
    setWarmPool(2);
    Histogram h = histogram();
    Histogram notFromPool = histogram();
    for (int i = 0; i < count && inTime(); i++) {
      if (!awaitTrue("warmReady ≥ 1", POOL_WAIT, () -> warmReady() >= 1)) {
        failures.add("warm sequential " + i + ": no warm container ready within " + POOL_WAIT);
        break;
      }
      Timed t = requestReady(true);
      if (t == null) {
        continue;
      }
      if (Boolean.TRUE.equals(t.container.getFromWarmPool())) {
        h.recordValue(t.micros);
      } else {
        notFromPool.recordValue(t.micros);
      }
      deleteAndAwait(List.of(t.id));
    }
    phases.add(new Phase("warm pool (2), sequential", h, "POST answers ready, fromWarmPool"));
    if (notFromPool.getTotalCount() > 0) {
      phases.add(
          new Phase("  warm sequential, NOT from the pool", notFromPool, "went the cold path"));
    }
  }

  private void warmConcurrent() throws Exception {
    progress("warm concurrent: warmPool " + concurrency + ", then " + concurrency + " at once");
    setWarmPool(concurrency);
    long filling = System.nanoTime();
    boolean full =
        awaitTrue("warmReady = " + concurrency, POOL_WAIT, () -> warmReady() >= concurrency);
    progress(
        "pool of "
            + concurrency
            + (full ? " filled in " : " NOT filled after ")
            + ms((System.nanoTime() - filling) / 1000)
            + " ms");
    if (!full) {
      failures.add("warm concurrent: the pool did not reach " + concurrency + " in " + POOL_WAIT);
    }
    Histogram h = histogram();
    Histogram notFromPool = histogram();
    List<Timed> got = full ? atOnce(concurrency, true) : List.of();
    for (Timed t : got) {
      (Boolean.TRUE.equals(t.container.getFromWarmPool()) ? h : notFromPool).recordValue(t.micros);
    }
    setWarmPool(0);
    deleteAndAwait(got.stream().map(Timed::id).toList());
    awaitTrue("the pool is empty", POOL_WAIT, () -> warmReady() == 0);
    phases.add(
        new Phase(
            "warm pool (" + concurrency + "), " + concurrency + " concurrent",
            h,
            "POST answers ready, fromWarmPool"));
    if (notFromPool.getTotalCount() > 0) {
      phases.add(
          new Phase("  warm concurrent, NOT from the pool", notFromPool, "went the cold path"));
    }
  }

  // --- requests --------------------------------------------------------------------------------

  /**
   * POST, then (unless it came back ready) GET ?wait=ready; null (and a failure) when it did not
   * become ready. With {@code warm}, a container not from the pool is still returned.
   */
  private Timed requestReady(boolean warm) {
    Instant asked = Instant.now();
    long t0 = System.nanoTime();
    Container c;
    try {
      c = admin.containers().createContainer(new ContainerCreate().image(IMAGE), null).block(CALL);
      if (c.getState() != ContainerState.READY) {
        long deadline = deadline(READY_WAIT);
        while (c.getState() != ContainerState.READY
            && c.getState() != ContainerState.FAILED
            && c.getState() != ContainerState.DELETED
            && System.nanoTime() < deadline) {
          c =
              admin
                  .containers()
                  .getContainer(
                      c.getId(),
                      "ready",
                      (int)
                          Math.max(1, TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime())))
                  .block(READY_WAIT.plusSeconds(20));
        }
      }
    } catch (RuntimeException e) {
      failures.add((warm ? "warm" : "cold") + " request: " + e);
      return null;
    }
    long micros = (System.nanoTime() - t0) / 1000;
    if (c.getState() != ContainerState.READY) {
      failures.add(
          (warm ? "warm" : "cold")
              + " container "
              + c.getId()
              + " not ready: "
              + c.getState()
              + (c.getReason() == null ? "" : " (" + c.getReason() + ")"));
      deleteAndAwait(List.of(c.getId()));
      return null;
    }
    return new Timed(c.getId(), asked, micros, c);
  }

  /** {@code n} requests released at the same instant, each on its own thread. */
  private List<Timed> atOnce(int n, boolean warm) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Timed>> futures = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        futures.add(
            pool.submit(
                () -> {
                  go.await();
                  return requestReady(warm);
                }));
      }
      Thread.sleep(200); // every thread is parked on the latch
      go.countDown();
      List<Timed> got = new ArrayList<>();
      for (Future<Timed> f : futures) {
        Timed t = f.get(READY_WAIT.toSeconds() + 60, TimeUnit.SECONDS);
        if (t != null) {
          got.add(t);
        }
      }
      return got;
    } finally {
      pool.shutdownNow();
    }
  }

  /** Deletes the containers (untimed) and waits until each is {@code deleted}. */
  private void deleteAndAwait(List<UUID> ids) {
    for (UUID id : ids) {
      try {
        admin.containers().deleteContainer(id).block(CALL);
      } catch (RuntimeException e) {
        failures.add("delete " + id + ": " + e);
      }
    }
    for (UUID id : ids) {
      long deadline = System.nanoTime() + GONE_WAIT.toNanos();
      Container c = null;
      while (System.nanoTime() < deadline) {
        // ?wait=ready also answers when the container is gone (deleted or failed).
        c = admin.containers().getContainer(id, "ready", 20).block(CALL);
        if (c.getState() == ContainerState.DELETED || c.getState() == ContainerState.FAILED) {
          break;
        }
        sleep(200);
      }
      if (c == null
          || (c.getState() != ContainerState.DELETED && c.getState() != ContainerState.FAILED)) {
        failures.add("container " + id + " not deleted within " + GONE_WAIT + ": " + c);
      }
    }
  }

  private void setWarmPool(int size) {
    admin.images().updateImage(IMAGE, imageSpec(size)).block(CALL);
  }

  private int warmReady() {
    Image image = admin.images().getImage(IMAGE).block(CALL);
    return image.getWarmReady() == null ? 0 : image.getWarmReady();
  }

  private ImageSpec imageSpec(int warmPool) {
    return new ImageSpec()
        .name(IMAGE)
        .reference(o.get("image-ref"))
        .isolation(IsolationLevel.STANDARD)
        .description("container benchmark (bench/run-containers.sh)")
        .warmPool(warmPool);
  }

  // --- the report ------------------------------------------------------------------------------

  private void report() {
    System.out.println();
    System.out.println("## Request → READY (ms)");
    System.out.println();
    System.out.println("| phase | n | p50 | p95 | max | note |");
    System.out.println("|---|--:|--:|--:|--:|---|");
    for (Phase p : phases) {
      Histogram h = p.histogram;
      System.out.printf(
          "| %s | %d | %s | %s | %s | %s |%n",
          p.name,
          h.getTotalCount(),
          h.getTotalCount() == 0 ? "–" : ms(h.getValueAtPercentile(50)),
          h.getTotalCount() == 0 ? "–" : ms(h.getValueAtPercentile(95)),
          h.getTotalCount() == 0 ? "–" : ms(h.getMaxValue()),
          p.note);
    }
    try {
      split("cold, sequential", coldSeq);
      split("cold, concurrent", coldConc);
    } catch (RuntimeException e) {
      System.out.println("(the audit split failed: " + e + ")");
    }
    System.out.println();
    System.out.println("- load average at the end: " + loadAverage());
    System.out.println("- cores: " + Runtime.getRuntime().availableProcessors());
    System.out.println("- failures: " + failures.size() + (cutShort ? " (time limit hit)" : ""));
    for (String f : failures) {
      System.out.println("  - " + f);
    }
  }

  /**
   * Splits each cold request by the audit events' times (one clock: the platform's, on this host,
   * as is the driver's): client → {@code container.create} → {@code container.provisioned} → {@code
   * container.ready} → the client's answer.
   */
  private void split(String title, List<Timed> timed) {
    if (timed.isEmpty()) {
      return;
    }
    Map<UUID, Instant> created = auditTimes("container.create");
    Map<UUID, Instant> provisioned = auditTimes("container.provisioned");
    Map<UUID, Instant> ready = auditTimes("container.ready");
    Map<String, Histogram> parts = new LinkedHashMap<>();
    for (String part :
        List.of(
            "driver → container.create (POST handled)",
            "container.create → container.provisioned (token, PUT to provisioner: engine create +"
                + " start)",
            "container.provisioned → container.ready (agent boots, dials signal, enrols)",
            "container.ready → driver sees ready",
            "total")) {
      parts.put(part, histogram());
    }
    var keys = new ArrayList<>(parts.keySet());
    for (Timed t : timed) {
      Instant c = created.get(t.id);
      Instant p = provisioned.get(t.id);
      Instant r = ready.get(t.id);
      if (c == null || p == null || r == null) {
        continue;
      }
      Instant answered = t.asked.plusNanos(t.micros * 1000);
      parts.get(keys.get(0)).recordValue(micros(t.asked, c));
      parts.get(keys.get(1)).recordValue(micros(c, p));
      parts.get(keys.get(2)).recordValue(micros(p, r));
      parts.get(keys.get(3)).recordValue(micros(r, answered));
      parts.get(keys.get(4)).recordValue(t.micros);
    }
    System.out.println();
    System.out.println("### Where the time goes: " + title + " (audit event times, ms)");
    System.out.println();
    System.out.println("| segment | n | p50 | p95 | max |");
    System.out.println("|---|--:|--:|--:|--:|");
    for (var e : parts.entrySet()) {
      Histogram h = e.getValue();
      System.out.printf(
          "| %s | %d | %s | %s | %s |%n",
          e.getKey(),
          h.getTotalCount(),
          ms(h.getValueAtPercentile(50)),
          ms(h.getValueAtPercentile(95)),
          ms(h.getMaxValue()));
    }
  }

  private Map<UUID, Instant> auditTimes(String action) {
    Map<UUID, Instant> times = new HashMap<>();
    String cursor = null;
    do {
      AuditEventPage page =
          admin.audit().listAuditEvents(null, null, null, action, null, 500, cursor).block(CALL);
      for (AuditEvent e : page.getItems() == null ? List.<AuditEvent>of() : page.getItems()) {
        Matcher m = LEADING_UUID.matcher(e.getTarget() == null ? "" : e.getTarget());
        if (m.find()) {
          times.putIfAbsent(UUID.fromString(m.group(1)), e.getTime().toInstant());
        }
      }
      cursor = page.getNextCursor();
    } while (cursor != null);
    return times;
  }

  // --- plumbing --------------------------------------------------------------------------------

  private record Exec(int exit, String out) {}

  private List<String> docker() {
    return List.of(o.getOrDefault("docker", "docker"), "-H", o.get("docker-host"));
  }

  private List<String> withDocker(String... args) {
    List<String> command = new ArrayList<>(docker());
    command.addAll(List.of(args));
    return command;
  }

  private static Exec exec(List<String> command, Duration timeout) throws IOException {
    Path out = Files.createTempFile("container-bench", ".out");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        return new Exec(-1, "timed out after " + timeout);
      }
      return new Exec(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8).trim());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Exec(-1, "interrupted");
    } finally {
      Files.deleteIfExists(out);
    }
  }

  private boolean awaitTrue(String what, Duration timeout, BooleanSupplier check) {
    long deadline = deadline(timeout);
    while (System.nanoTime() < deadline) {
      if (check.getAsBoolean()) {
        return true;
      }
      sleep(100);
    }
    progress("gave up waiting for " + what + " after " + timeout);
    return false;
  }

  /** The earlier of now + {@code timeout} and the end of the run. */
  private long deadline(Duration timeout) {
    return Math.min(System.nanoTime() + timeout.toNanos(), runDeadline);
  }

  private boolean inTime() {
    if (System.nanoTime() < runDeadline) {
      return true;
    }
    if (!cutShort) {
      progress("time limit reached: skipping the rest");
    }
    cutShort = true;
    return false;
  }

  private static Histogram histogram() {
    return new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
  }

  private static long micros(Instant from, Instant to) {
    return Math.max(0, Duration.between(from, to).toNanos() / 1000);
  }

  private static String ms(long micros) {
    return String.format("%.1f", micros / 1000.0);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void progress(String what) {
    System.err.printf("[containers %tT load %s] %s%n", Instant.now().toEpochMilli(), load1(), what);
  }

  private static String load1() {
    String all = loadAverage();
    int space = all.indexOf(' ');
    return space < 0 ? all : all.substring(0, space);
  }
}
