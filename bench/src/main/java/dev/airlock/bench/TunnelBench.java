package dev.airlock.bench;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.tunnel.TunnelStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SynchronizedHistogram;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The reverse-tunnel benchmarks (BENCHMARKS.md, "Reverse tunnels"), run by {@code
 * bench/run-tunnel.sh} in the host namespace, where the signal node and the platform run. A
 * benchmark, not a test. It reaches one service at the edge ({@link TunnelEdgeService}, in the edge
 * namespace) by up to three routes, in the same run and with the same payloads:
 *
 * <ul>
 *   <li>{@code direct}: TCP to the edge's address (the floor);
 *   <li>{@code tunnel}: the Java SDK's {@code AirlockClient.tunnel(node, "tcp:PORT", null)}: client
 *       WebSocket to the signal node, HTTP/2 over TLS to the node agent, TCP to the service;
 *   <li>{@code ssh}: OpenSSH's {@code ssh -R} from the edge to an {@code sshd} in this namespace,
 *       reached at the port {@code sshd} forwards.
 * </ul>
 *
 * <p>Phases ({@code --phases=bulk,latency,stall,streams}, run in that order):
 *
 * <ul>
 *   <li>{@code bulk}: one connection moves {@code --bulk-bytes} (1 GiB) or as much as it can in
 *       {@code --bulk-seconds} (20), whichever ends first, in 64 KiB writes: upload (to the sink,
 *       timed until it acknowledged the last byte) and download (from the source, timed until the
 *       last byte arrived), after an untimed warm-up of {@code --bulk-warmup-bytes} (4 GiB) or
 *       {@code --bulk-warmup-seconds} (10), whichever ends first, each way. MB/s, and the CPU time
 *       of the route's relays (signal node + agent; sshd + ssh), of this driver and of the edge
 *       service, per MB;
 *   <li>{@code latency}: one established connection, {@code --ping-warmup} (2,000) then {@code
 *       --ping-count} (10,000) round trips of {@code --ping-size} (64) bytes to the echo service,
 *       one at a time; p50/p95/p99/p99.9/max and what the route adds to direct's p50;
 *   <li>{@code stall}: an upload of {@code --stall-bytes} (64 MiB, or {@code --stall-seconds})
 *       alone, then again while another connection of the same route keeps sending to a target that
 *       never reads: whether one stuck connection slows the others;
 *   <li>{@code streams}: {@code --streams} (1,000) connections open at once (opened with at most
 *       {@code --open-concurrency} (64) opening at a time), then all echo {@code --stream-bytes}
 *       (16 KiB of random bytes, compared on return) at the same moment, then all close: time of
 *       each step, failures, and for the tunnel the heap after GC of the signal node ({@code
 *       --signal-pid}) and the agent ({@code --agent-pid}) with all of them open, and how soon a
 *       new connection works after they all closed.
 * </ul>
 *
 * <p>Other options ({@code --key=value}): {@code url}, {@code api-key}, {@code node}, {@code
 * target} (tcp:PORT), {@code direct} (HOST:PORT), {@code ssh} (HOST:PORT, the forwarded port; the
 * route is left out without it), {@code routes} (direct,tunnel,ssh), {@code tunnel-pids} and {@code
 * ssh-pids} (comma-separated; their descendants count too), {@code edge-pid}, {@code results} (a
 * file the Markdown tables are written to as well).
 */
public final class TunnelBench {

  private static final Duration CALL = Duration.ofSeconds(40);
  private static final int CHUNK = TunnelEdgeService.CHUNK;
  private static final int MIB = TunnelEdgeService.ACK_EVERY;

  private final Map<String, String> o;
  private final Map<String, Route> routes = new LinkedHashMap<>();
  private final Map<String, List<Long>> relayPids = new LinkedHashMap<>();
  private final long edgePid;
  private final StringBuilder tables = new StringBuilder();
  private final List<String> streamNotes = new ArrayList<>();

  private TunnelBench(Map<String, String> o) {
    this.o = o;
    this.edgePid = Long.parseLong(o.getOrDefault("edge-pid", "-1"));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = SignalBench.options(args);
    int status = 0;
    try {
      status = new TunnelBench(o).run();
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    System.exit(status);
  }

  private int run() throws Exception {
    AirlockClient client =
        AirlockClient.builder().baseUrl(o.get("url")).build().withApiKey(o.get("api-key"));
    List<String> wanted = List.of(o.getOrDefault("routes", "direct,tunnel,ssh").split(","));
    if (wanted.contains("direct")) {
      routes.put("direct", new SocketRoute("direct", address(o.get("direct"))));
      relayPids.put("direct", List.of());
    }
    if (wanted.contains("tunnel")) {
      routes.put("tunnel", new TunnelRoute(client, o.get("node"), o.get("target")));
      relayPids.put("tunnel", pids(o.get("tunnel-pids")));
    }
    if (wanted.contains("ssh") && o.get("ssh") != null && !o.get("ssh").isBlank()) {
      routes.put("ssh", new SocketRoute("ssh", address(o.get("ssh"))));
      relayPids.put("ssh", pids(o.get("ssh-pids")));
    }
    System.out.println("routes: " + routes.keySet());
    tables.append("Machine:\n\n").append(Machine.describe()).append("\n\n");
    List<String> phases =
        List.of(o.getOrDefault("phases", "bulk,latency,stall,streams").split(","));
    int failures = 0;
    if (phases.contains("bulk")) {
      failures += bulk();
    }
    if (phases.contains("latency")) {
      failures += latency();
    }
    // The stall phase before the many streams: closing a thousand streams at once may cost the
    // route its connection (see streams()), and the stall phase should not start on the rebound.
    if (phases.contains("stall")) {
      failures += stall();
    }
    if (phases.contains("streams")) {
      failures += streams();
    }
    System.out.println();
    System.out.println(tables);
    String results = o.get("results");
    if (results != null && !results.isBlank()) {
      Files.writeString(Path.of(results), tables.toString());
    }
    return failures == 0 ? 0 : 1;
  }

  // --- bulk ----------------------------------------------------------------------------------

  private record Moved(long bytes, long nanos) {
    double mbPerSecond() {
      return nanos <= 0 ? 0 : bytes / (nanos / 1e9) / 1e6;
    }
  }

  private record BulkRow(String route, String direction, Moved moved, Cpu cpu) {}

  private int bulk() throws Exception {
    long bytes = roundToMib(Long.parseLong(o.getOrDefault("bulk-bytes", String.valueOf(1L << 30))));
    long seconds = Long.parseLong(o.getOrDefault("bulk-seconds", "20"));
    long warmup =
        roundToMib(Long.parseLong(o.getOrDefault("bulk-warmup-bytes", String.valueOf(4L << 30))));
    long warmupSeconds = Long.parseLong(o.getOrDefault("bulk-warmup-seconds", "10"));
    int rounds = Integer.parseInt(o.getOrDefault("bulk-rounds", "3"));
    System.out.printf(
        "%nBULK: %d MiB or %d s per direction, whichever first (64 KiB writes), after a warm-up of"
            + " %d MiB or %d s; %d round(s)%n",
        bytes >> 20, seconds, warmup >> 20, warmupSeconds, rounds);
    List<BulkRow> rows = new ArrayList<>();
    int failures = 0;
    for (int round = 0; round < rounds; round++) {
      List<String> order = new ArrayList<>(routes.keySet());
      // Later rounds start from another route, so no route always runs on the warmest machine.
      for (int r = 0; r < round % Math.max(1, order.size()); r++) {
        order.add(order.remove(0));
      }
      for (String name : order) {
        Route route = routes.get(name);
        for (String direction : List.of("upload", "download")) {
          try {
            if (warmup > 0) {
              // For the JIT: with 64 MiB the relays were still compiling while measured. Fresh
              // JVMs need some 30 s of traffic, so round 1 is still partly cold (BENCHMARKS.md,
              // "Bulk throughput with warm JVMs") and the later rounds show warm ones.
              transfer(
                  route, direction, warmup, System.nanoTime() + warmupSeconds * 1_000_000_000L);
            }
            Cpu before = Cpu.now(relayPids.get(name), edgePid);
            Moved moved =
                transfer(route, direction, bytes, System.nanoTime() + seconds * 1_000_000_000L);
            Cpu used = Cpu.now(relayPids.get(name), edgePid).minus(before);
            rows.add(new BulkRow(name, direction, moved, used));
            System.out.printf(
                "  %-6s %-8s %8.1f MiB in %6.2f s = %8.1f MB/s  (relays %.2f s CPU, driver %.2f s,"
                    + " edge %.2f s; machine %.0f%% busy)%n",
                name,
                direction,
                moved.bytes() / 1048576.0,
                moved.nanos() / 1e9,
                moved.mbPerSecond(),
                used.relayNanos / 1e9,
                used.driverNanos / 1e9,
                used.edgeNanos / 1e9,
                used.machineBusy() * 100);
          } catch (Exception e) {
            failures++;
            System.out.printf("  %-6s %-8s FAILED: %s%n", name, direction, e);
          }
        }
      }
    }
    tables.append("### Bulk throughput, one connection\n\n");
    tables.append(
        "| route | direction | MiB moved | s | MB/s | × ssh -R | relays CPU ms/MB | driver CPU"
            + " ms/MB | edge service CPU ms/MB | machine busy |\n");
    tables.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (BulkRow row : rows) {
      double ssh =
          rows.stream()
              .filter(r -> r.route().equals("ssh") && r.direction().equals(row.direction()))
              .mapToDouble(r -> r.moved().mbPerSecond())
              .average()
              .orElse(Double.NaN);
      double mb = row.moved().bytes() / 1e6;
      tables.append(
          String.format(
              "| %s | %s | %.0f | %.2f | %.1f | %s | %s | %.2f | %.2f | %.0f%% |%n",
              label(row.route()),
              row.direction(),
              row.moved().bytes() / 1048576.0,
              row.moved().nanos() / 1e9,
              row.moved().mbPerSecond(),
              Double.isNaN(ssh) ? "–" : String.format("%.2f", row.moved().mbPerSecond() / ssh),
              row.route().equals("direct")
                  ? "–"
                  : String.format("%.2f", row.cpu().relayNanos / 1e6 / mb),
              row.cpu().driverNanos / 1e6 / mb,
              row.cpu().edgeNanos / 1e6 / mb,
              row.cpu().machineBusy() * 100));
    }
    tables.append('\n');
    return failures;
  }

  private Moved transfer(Route route, String direction, long bytes, long deadline)
      throws Exception {
    return direction.equals("upload")
        ? route.upload(bytes, deadline)
        : route.download(bytes, deadline);
  }

  private static long roundToMib(long bytes) {
    return Math.max(MIB, (bytes + MIB - 1) / MIB * MIB);
  }

  // --- latency -------------------------------------------------------------------------------

  private int latency() throws Exception {
    int warmup = Integer.parseInt(o.getOrDefault("ping-warmup", "2000"));
    int count = Integer.parseInt(o.getOrDefault("ping-count", "10000"));
    int size = Integer.parseInt(o.getOrDefault("ping-size", "64"));
    System.out.printf(
        "%nLATENCY: %d-byte echo round trips, one at a time on one connection: %d warm-up, then"
            + " %d%n",
        size, warmup, count);
    Map<String, Histogram> results = new LinkedHashMap<>();
    int failures = 0;
    for (Map.Entry<String, Route> entry : routes.entrySet()) {
      try {
        Histogram h = entry.getValue().pingPong(warmup, count, size);
        results.put(entry.getKey(), h);
        System.out.printf(
            "  %-6s p50 %.3f ms  p95 %.3f ms  p99 %.3f ms  max %.3f ms  (n=%d)%n",
            entry.getKey(),
            ms(h, 50),
            ms(h, 95),
            ms(h, 99),
            h.getMaxValue() / 1e6,
            h.getTotalCount());
      } catch (Exception e) {
        failures++;
        System.out.printf("  %-6s FAILED: %s%n", entry.getKey(), e);
      }
    }
    Histogram direct = results.get("direct");
    tables.append(
        String.format(
            "### Round trip of %d bytes on an established connection (%d after %d warm-up)%n%n",
            size, count, warmup));
    tables.append("| route | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | added p50 ms |\n");
    tables.append("|---|--:|--:|--:|--:|--:|--:|\n");
    for (Map.Entry<String, Histogram> entry : results.entrySet()) {
      Histogram h = entry.getValue();
      tables.append(
          String.format(
              "| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %s |%n",
              label(entry.getKey()),
              ms(h, 50),
              ms(h, 95),
              ms(h, 99),
              ms(h, 99.9),
              h.getMaxValue() / 1e6,
              direct == null || entry.getKey().equals("direct")
                  ? "–"
                  : String.format("%+.3f", ms(h, 50) - ms(direct, 50))));
    }
    tables.append('\n');
    return failures;
  }

  private static double ms(Histogram h, double percentile) {
    return h.getValueAtPercentile(percentile) / 1e6;
  }

  // --- many streams --------------------------------------------------------------------------

  private int streams() throws Exception {
    int count = Integer.parseInt(o.getOrDefault("streams", "1000"));
    int bytes = Integer.parseInt(o.getOrDefault("stream-bytes", "16384"));
    int openConcurrency = Integer.parseInt(o.getOrDefault("open-concurrency", "64"));
    System.out.printf(
        "%nSTREAMS: %d connections open at once (at most %d opening at a time), then each echoes"
            + " %d bytes at the same moment, then all close%n",
        count, openConcurrency, bytes);
    tables.append(
        String.format("### %d connections at once, each echoing %d bytes%n%n", count, bytes));
    tables.append(
        "| route | open | open: all s | open p50 ms | open p99 ms | echo: all s | echo p50 ms |"
            + " echo p99 ms | failures | close: all s | total s | next connection works after ms |\n");
    tables.append("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    int failures = 0;
    for (Map.Entry<String, Route> entry : routes.entrySet()) {
      failures += streams(entry.getKey(), entry.getValue(), count, bytes, openConcurrency);
    }
    tables.append('\n');
    for (String note : streamNotes) {
      tables.append(note).append("\n\n");
    }
    return failures;
  }

  private int streams(String name, Route route, int count, int bytes, int openConcurrency)
      throws Exception {
    boolean measureMemory = name.equals("tunnel");
    long signalPid = Long.parseLong(o.getOrDefault("signal-pid", "-1"));
    long agentPid = Long.parseLong(o.getOrDefault("agent-pid", "-1"));
    JvmMemory signalBefore = measureMemory && signalPid > 0 ? JvmMemory.afterGc(signalPid) : null;
    JvmMemory agentBefore = measureMemory && agentPid > 0 ? JvmMemory.afterGc(agentPid) : null;

    Histogram openTimes = new SynchronizedHistogram(3);
    Histogram echoTimes = new SynchronizedHistogram(3);
    Map<String, AtomicInteger> why = new ConcurrentHashMap<>();
    AtomicInteger opened = new AtomicInteger();
    AtomicInteger echoed = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Semaphore opening = new Semaphore(openConcurrency);
    CountDownLatch allOpened = new CountDownLatch(count);
    CountDownLatch go = new CountDownLatch(1);
    CountDownLatch allEchoed = new CountDownLatch(count);
    CountDownLatch closeNow = new CountDownLatch(1);
    CountDownLatch allClosed = new CountDownLatch(count);
    AtomicLong goAt = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < count; i++) {
      int index = i;
      Thread thread =
          new Thread(
              null,
              () -> {
                Route.Pipe pipe = null;
                try {
                  opening.acquire();
                  long start = System.nanoTime();
                  try {
                    pipe = route.open();
                    openTimes.recordValue(System.nanoTime() - start);
                    opened.incrementAndGet();
                  } finally {
                    opening.release();
                    allOpened.countDown();
                  }
                  go.await();
                  byte[] payload = new byte[bytes];
                  new Random(index).nextBytes(payload);
                  byte[] back = pipe.echo(payload);
                  echoTimes.recordValue(System.nanoTime() - goAt.get());
                  if (!Arrays.equals(payload, back)) {
                    throw new IllegalStateException("echo differs from what was sent");
                  }
                  echoed.incrementAndGet();
                } catch (Exception e) {
                  failed.incrementAndGet();
                  String reason = String.valueOf(e).replaceAll("[0-9a-f-]{36}", "…");
                  why.computeIfAbsent(
                          reason.length() > 160 ? reason.substring(0, 160) : reason,
                          k -> new AtomicInteger())
                      .incrementAndGet();
                } finally {
                  allEchoed.countDown();
                  try {
                    closeNow.await();
                    if (pipe != null) {
                      pipe.close();
                    }
                  } catch (Exception e) {
                    // counted by the close time only
                  }
                  allClosed.countDown();
                }
              },
              name + "-stream-" + i,
              256 * 1024);
      thread.setDaemon(true);
      thread.start();
      threads.add(thread);
    }
    boolean openInTime = allOpened.await(10, TimeUnit.MINUTES);
    long openNanos = System.nanoTime() - t0;
    System.out.printf(
        "  %-6s %d of %d open in %.2f s (open p50 %.1f ms, p99 %.1f ms)%s%n",
        name,
        opened.get(),
        count,
        openNanos / 1e9,
        ms(openTimes, 50),
        ms(openTimes, 99),
        openInTime ? "" : " (gave up waiting)");
    String memory = "";
    if (signalBefore != null) {
      JvmMemory signalOpen = JvmMemory.afterGc(signalPid);
      long delta = signalOpen.heapUsedBytes() - signalBefore.heapUsedBytes();
      memory +=
          String.format(
              "signal node heap after GC %s → %s = %d bytes per open stream; RSS %s → %s",
              JvmMemory.mib(signalBefore.heapUsedBytes()),
              JvmMemory.mib(signalOpen.heapUsedBytes()),
              opened.get() == 0 ? 0 : delta / opened.get(),
              JvmMemory.mib(signalBefore.rssBytes()),
              JvmMemory.mib(signalOpen.rssBytes()));
    }
    if (agentBefore != null) {
      JvmMemory agentOpen = JvmMemory.afterGc(agentPid);
      long delta = agentOpen.heapUsedBytes() - agentBefore.heapUsedBytes();
      memory +=
          String.format(
              "; agent heap after GC %s → %s = %d bytes per open stream",
              JvmMemory.mib(agentBefore.heapUsedBytes()),
              JvmMemory.mib(agentOpen.heapUsedBytes()),
              opened.get() == 0 ? 0 : delta / opened.get());
    }
    if (!memory.isEmpty()) {
      System.out.println("  " + name + " with " + opened.get() + " open: " + memory);
    }
    goAt.set(System.nanoTime());
    go.countDown();
    boolean echoInTime = allEchoed.await(10, TimeUnit.MINUTES);
    long echoNanos = System.nanoTime() - goAt.get();
    System.out.printf(
        "  %-6s %d of %d echoed %d bytes in %.2f s (p50 %.1f ms, p99 %.1f ms)%s%n",
        name,
        echoed.get(),
        count,
        bytes,
        echoNanos / 1e9,
        ms(echoTimes, 50),
        ms(echoTimes, 99),
        echoInTime ? "" : " (gave up waiting)");
    long closeStart = System.nanoTime();
    closeNow.countDown();
    allClosed.await(5, TimeUnit.MINUTES);
    long closeNanos = System.nanoTime() - closeStart;
    long totalNanos = System.nanoTime() - t0;
    // Whether the route still works right after: a new connection that echoes 1 KiB, tried until
    // it does (at most 60 s).
    long afterStart = System.nanoTime();
    long afterNanos = -1;
    int attempts = 0;
    String lastError = null;
    while (System.nanoTime() - afterStart < 60_000_000_000L) {
      attempts++;
      try (Route.Pipe pipe = route.open()) {
        byte[] payload = new byte[1024];
        new Random(attempts).nextBytes(payload);
        if (Arrays.equals(payload, pipe.echo(payload))) {
          afterNanos = System.nanoTime() - afterStart;
          break;
        }
        lastError = "echo differs";
      } catch (Exception e) {
        lastError = String.valueOf(e);
      }
      Thread.sleep(200);
    }
    String after =
        afterNanos < 0
            ? "not within 60 s (" + lastError + ")"
            : String.format(
                "%.0f%s", afterNanos / 1e6, attempts > 1 ? " (" + attempts + " tries)" : "");
    System.out.printf("  %-6s the next connection after them worked after %s ms%n", name, after);
    if (afterNanos < 0) {
      failed.incrementAndGet();
    }
    if (!why.isEmpty()) {
      System.out.println("  " + name + " failures: " + why);
    }
    System.out.printf(
        "  %-6s all closed in %.2f s; total %.2f s; %d failed%n",
        name, closeNanos / 1e9, totalNanos / 1e9, failed.get());
    tables.append(
        String.format(
            "| %s | %d of %d | %.2f | %.1f | %.1f | %.2f | %.1f | %.1f | %d | %.2f | %.2f | %s |%n",
            label(name),
            opened.get(),
            count,
            openNanos / 1e9,
            ms(openTimes, 50),
            ms(openTimes, 99),
            echoNanos / 1e9,
            ms(echoTimes, 50),
            ms(echoTimes, 99),
            failed.get(),
            closeNanos / 1e9,
            totalNanos / 1e9,
            after));
    if (!memory.isEmpty()) {
      streamNotes.add(label(name) + ", " + opened.get() + " open at once: " + memory + ".");
    }
    if (!why.isEmpty()) {
      streamNotes.add(label(name) + " failures: " + why + ".");
    }
    return failed.get() == 0 ? 0 : 1;
  }

  // --- a stalled stream beside a busy one -----------------------------------------------------

  /**
   * Upload on one connection while another connection of the same route sends to a target that
   * never reads: with per-stream flow control the second does not slow the first.
   */
  private int stall() throws Exception {
    long bytes =
        roundToMib(Long.parseLong(o.getOrDefault("stall-bytes", String.valueOf(64L << 20))));
    long seconds = Long.parseLong(o.getOrDefault("stall-seconds", "20"));
    System.out.printf(
        "%nSTALL: upload of %d MiB (or %d s) while another connection sends to a target that never"
            + " reads%n",
        bytes >> 20, seconds);
    tables.append("### Upload beside a stalled connection\n\n");
    tables.append("| route | alone MB/s | beside a stalled connection MB/s | stalled one sent |\n");
    tables.append("|---|--:|--:|--:|\n");
    int failures = 0;
    for (Map.Entry<String, Route> entry : routes.entrySet()) {
      try {
        Moved alone = entry.getValue().upload(bytes, System.nanoTime() + seconds * 1_000_000_000L);
        AtomicLong stalledSent = new AtomicLong();
        AutoCloseable stalled = entry.getValue().stall(stalledSent);
        Thread.sleep(2000);
        Moved beside;
        try {
          beside = entry.getValue().upload(bytes, System.nanoTime() + seconds * 1_000_000_000L);
        } finally {
          stalled.close();
        }
        System.out.printf(
            "  %-6s alone %.1f MB/s; beside a stalled connection (which got %d KiB out) %.1f MB/s%n",
            entry.getKey(), alone.mbPerSecond(), stalledSent.get() >> 10, beside.mbPerSecond());
        tables.append(
            String.format(
                "| %s | %.1f | %.1f | %d KiB |%n",
                label(entry.getKey()),
                alone.mbPerSecond(),
                beside.mbPerSecond(),
                stalledSent.get() >> 10));
      } catch (Exception e) {
        failures++;
        System.out.printf("  %-6s FAILED: %s%n", entry.getKey(), e);
        tables.append(String.format("| %s | failed: %s | | |%n", label(entry.getKey()), e));
      }
    }
    tables.append('\n');
    return failures;
  }

  // --- routes --------------------------------------------------------------------------------

  private static String label(String route) {
    return switch (route) {
      case "direct" -> "direct TCP";
      case "tunnel" -> "Airlock tunnel (SDK → signal → agent)";
      case "ssh" -> "OpenSSH `ssh -R`";
      default -> route;
    };
  }

  /** One way to reach the edge service. */
  private interface Route {

    /** Sends {@code bytes} (or what fits before {@code deadline}) to the sink. */
    Moved upload(long bytes, long deadline) throws Exception;

    /** Reads {@code bytes} (or what arrives before {@code deadline}) from the source. */
    Moved download(long bytes, long deadline) throws Exception;

    /** Round trips on one connection to the echo service, in nanoseconds. */
    Histogram pingPong(int warmup, int count, int size) throws Exception;

    /** Opens a connection for {@link Pipe#echo(byte[])}. */
    Pipe open() throws Exception;

    /**
     * Opens a connection to a target that never reads and keeps sending to it, counting in {@code
     * sent} what left this process, until closed.
     */
    AutoCloseable stall(AtomicLong sent) throws Exception;

    /** An open connection. */
    interface Pipe extends AutoCloseable {

      /** Sends {@code payload} to the echo service and returns what came back. */
      byte[] echo(byte[] payload) throws Exception;
    }
  }

  private static byte[] header(char command, long length) {
    return ByteBuffer.allocate(9).put((byte) command).putLong(length).array();
  }

  private static byte[] randomChunk() {
    byte[] chunk = new byte[CHUNK];
    new Random(2).nextBytes(chunk);
    return chunk;
  }

  /** Plain TCP to an address: the edge itself, or the port {@code sshd} forwards. */
  private static final class SocketRoute implements Route {

    private final String name;
    private final InetSocketAddress address;

    SocketRoute(String name, InetSocketAddress address) {
      this.name = name;
      this.address = address;
    }

    private Socket connect() throws IOException {
      Socket socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(address, 10_000);
      socket.setSoTimeout(60_000);
      return socket;
    }

    @Override
    public Moved upload(long bytes, long deadline) throws Exception {
      try (Socket socket = connect()) {
        OutputStream out = socket.getOutputStream();
        AtomicLong acked = new AtomicLong();
        Thread acks =
            new Thread(
                () -> {
                  try {
                    DataInputStream in = new DataInputStream(socket.getInputStream());
                    while (acked.get() < bytes) {
                      acked.set(in.readLong());
                    }
                  } catch (IOException e) {
                    // the connection ended
                  }
                },
                name + "-acks");
        acks.setDaemon(true);
        acks.start();
        byte[] chunk = randomChunk();
        long t0 = System.nanoTime();
        out.write(header('U', bytes));
        long sent = 0;
        while (sent < bytes && !(sent % MIB == 0 && System.nanoTime() > deadline)) {
          out.write(chunk);
          sent += CHUNK;
        }
        out.flush();
        long limit = System.nanoTime() + CALL.toNanos();
        while (acked.get() < sent) {
          if (System.nanoTime() > limit || !acks.isAlive() && acked.get() < sent) {
            throw new IllegalStateException(
                name + ": the sink acknowledged " + acked.get() + " of " + sent + " bytes");
          }
          LockSupport.parkNanos(50_000);
        }
        return new Moved(sent, System.nanoTime() - t0);
      }
    }

    @Override
    public Moved download(long bytes, long deadline) throws Exception {
      try (Socket socket = connect()) {
        InputStream in = socket.getInputStream();
        byte[] buffer = new byte[CHUNK];
        long t0 = System.nanoTime();
        socket.getOutputStream().write(header('D', bytes));
        long received = 0;
        while (received < bytes && System.nanoTime() < deadline) {
          int n = in.read(buffer);
          if (n < 0) {
            throw new IOException(name + ": the source ended after " + received + " bytes");
          }
          received += n;
        }
        return new Moved(received, System.nanoTime() - t0);
      }
    }

    @Override
    public Histogram pingPong(int warmup, int count, int size) throws Exception {
      Histogram h = new Histogram(3);
      try (Socket socket = connect()) {
        OutputStream out = socket.getOutputStream();
        InputStream in = socket.getInputStream();
        out.write('E');
        byte[] ping = new byte[size];
        new Random(3).nextBytes(ping);
        for (int i = 0; i < warmup + count; i++) {
          long t0 = System.nanoTime();
          out.write(ping);
          byte[] back = in.readNBytes(size);
          long t1 = System.nanoTime();
          if (back.length != size) {
            throw new IOException(name + ": the echo ended after " + i + " round trips");
          }
          if (i >= warmup) {
            h.recordValue(t1 - t0);
          }
        }
      }
      return h;
    }

    @Override
    public AutoCloseable stall(AtomicLong sent) throws Exception {
      Socket socket = connect();
      Thread writer =
          new Thread(
              () -> {
                try {
                  OutputStream out = socket.getOutputStream();
                  out.write('S');
                  byte[] chunk = randomChunk();
                  while (true) {
                    out.write(chunk);
                    sent.addAndGet(CHUNK);
                  }
                } catch (IOException e) {
                  // closed
                }
              },
              name + "-stalled");
      writer.setDaemon(true);
      writer.start();
      return socket::close;
    }

    @Override
    public Pipe open() throws Exception {
      Socket socket = connect();
      return new Pipe() {
        @Override
        public byte[] echo(byte[] payload) throws Exception {
          OutputStream out = socket.getOutputStream();
          out.write('E');
          out.write(payload);
          out.flush();
          byte[] back = socket.getInputStream().readNBytes(payload.length);
          if (back.length != payload.length) {
            throw new IOException(name + ": echo ended after " + back.length + " bytes");
          }
          return back;
        }

        @Override
        public void close() throws IOException {
          socket.close();
        }
      };
    }
  }

  /** A stream through the reverse tunnel, opened with the Java SDK. */
  private static final class TunnelRoute implements Route {

    private final AirlockClient client;
    private final String node;
    private final String target;

    TunnelRoute(AirlockClient client, String node, String target) {
      this.client = client;
      this.node = node;
      this.target = target;
    }

    private TunnelStream connect() {
      return client.tunnel(node, target, null).block(CALL);
    }

    private static void close(TunnelStream stream) {
      stream.close().block(CALL);
    }

    @Override
    public Moved upload(long bytes, long deadline) throws Exception {
      TunnelStream stream = connect();
      try {
        AtomicLong acked = new AtomicLong();
        CompletableFuture<Void> ended = new CompletableFuture<>();
        ByteBuffer pending = ByteBuffer.allocate(64);
        stream
            .receive()
            .subscribe(
                buffer -> {
                  // Acknowledgements are 8-byte counts; a buffer may end inside one.
                  while (buffer.hasRemaining()) {
                    int n = Math.min(buffer.remaining(), pending.remaining());
                    pending.put(buffer.slice().limit(n));
                    buffer.position(buffer.position() + n);
                    pending.flip();
                    while (pending.remaining() >= 8) {
                      acked.set(pending.getLong());
                    }
                    pending.compact();
                  }
                },
                ended::completeExceptionally,
                () -> ended.complete(null));
        ByteBuffer chunk = ByteBuffer.wrap(randomChunk()).asReadOnlyBuffer();
        AtomicLong sent = new AtomicLong();
        Flux<ByteBuffer> data =
            Flux.generate(
                sink -> {
                  long n = sent.get();
                  if (n >= bytes || n % MIB == 0 && System.nanoTime() > deadline) {
                    sink.complete();
                  } else {
                    sent.addAndGet(CHUNK);
                    sink.next(chunk.duplicate());
                  }
                });
        long t0 = System.nanoTime();
        stream
            .send(Flux.concat(Mono.just(ByteBuffer.wrap(header('U', bytes))), data))
            .block(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())).plus(CALL));
        long limit = System.nanoTime() + CALL.toNanos();
        while (acked.get() < sent.get()) {
          if (System.nanoTime() > limit || ended.isDone()) {
            throw new IllegalStateException(
                "tunnel: the sink acknowledged "
                    + acked.get()
                    + " of "
                    + sent.get()
                    + " bytes"
                    + (ended.isDone()
                        ? " before the stream ended: " + stream.closed().block(CALL)
                        : ""));
          }
          LockSupport.parkNanos(50_000);
        }
        return new Moved(sent.get(), System.nanoTime() - t0);
      } finally {
        close(stream);
      }
    }

    @Override
    public Moved download(long bytes, long deadline) throws Exception {
      TunnelStream stream = connect();
      try {
        AtomicLong received = new AtomicLong();
        AtomicLong doneAt = new AtomicLong();
        CompletableFuture<Void> all = new CompletableFuture<>();
        stream
            .receive()
            .subscribe(
                buffer -> {
                  if (received.addAndGet(buffer.remaining()) >= bytes && doneAt.get() == 0) {
                    doneAt.set(System.nanoTime());
                    all.complete(null);
                  }
                },
                all::completeExceptionally,
                () -> all.completeExceptionally(new IllegalStateException("stream ended")));
        long t0 = System.nanoTime();
        stream.send(Mono.just(ByteBuffer.wrap(header('D', bytes)))).block(CALL);
        try {
          all.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          return new Moved(received.get(), doneAt.get() - t0);
        } catch (java.util.concurrent.TimeoutException e) {
          long now = System.nanoTime();
          return new Moved(received.get(), now - t0);
        }
      } finally {
        close(stream);
      }
    }

    @Override
    public Histogram pingPong(int warmup, int count, int size) throws Exception {
      TunnelStream stream = connect();
      try {
        Histogram h = new Histogram(3);
        byte[] ping = new byte[size];
        new Random(3).nextBytes(ping);
        int total = warmup + count;
        // One long-lived publisher, as a program bridging a local socket would send with.
        Sinks.Many<ByteBuffer> out = Sinks.many().unicast().onBackpressureBuffer();
        CompletableFuture<Void> done = new CompletableFuture<>();
        PingState state = new PingState();
        stream
            .receive()
            .subscribe(
                buffer -> {
                  // The next ping goes out from here, on the connection's own thread: what is
                  // timed is the route, not a hand-over between threads.
                  state.received += buffer.remaining();
                  while (state.received >= (long) (state.round + 1) * size) {
                    long now = System.nanoTime();
                    if (state.round >= warmup) {
                      h.recordValue(now - state.sentAt);
                    }
                    state.round++;
                    if (state.round == total) {
                      done.complete(null);
                      return;
                    }
                    state.sentAt = System.nanoTime();
                    out.tryEmitNext(ByteBuffer.wrap(ping));
                  }
                },
                done::completeExceptionally,
                () -> done.completeExceptionally(new IllegalStateException("stream ended")));
        stream.send(out.asFlux()).subscribe(v -> {}, done::completeExceptionally);
        state.sentAt = System.nanoTime();
        out.tryEmitNext(ByteBuffer.wrap(new byte[] {'E'}));
        out.tryEmitNext(ByteBuffer.wrap(ping));
        done.get(Math.max(60, total / 100), TimeUnit.SECONDS);
        out.tryEmitComplete();
        return h;
      } finally {
        close(stream);
      }
    }

    /** Touched only by the stream's receiving thread once the first ping is out. */
    private static final class PingState {
      long received;
      int round;
      volatile long sentAt;
    }

    @Override
    public AutoCloseable stall(AtomicLong sent) {
      TunnelStream stream = connect();
      ByteBuffer chunk = ByteBuffer.wrap(randomChunk()).asReadOnlyBuffer();
      Flux<ByteBuffer> endless =
          Flux.concat(
              Mono.just(ByteBuffer.wrap(new byte[] {'S'})),
              Flux.<ByteBuffer>generate(sink -> sink.next(chunk.duplicate()))
                  .doOnNext(b -> sent.addAndGet(CHUNK)));
      var sending = stream.send(endless).subscribe(v -> {}, e -> {});
      return () -> {
        sending.dispose();
        close(stream);
      };
    }

    @Override
    public Pipe open() {
      TunnelStream stream = connect();
      return new Pipe() {
        @Override
        public byte[] echo(byte[] payload) throws Exception {
          byte[] back = new byte[payload.length];
          AtomicInteger filled = new AtomicInteger();
          CompletableFuture<byte[]> result = new CompletableFuture<>();
          stream
              .receive()
              .subscribe(
                  buffer -> {
                    int at = filled.get();
                    int n = Math.min(buffer.remaining(), back.length - at);
                    buffer.get(back, at, n);
                    if (filled.addAndGet(n) == back.length) {
                      result.complete(back);
                    }
                  },
                  result::completeExceptionally,
                  () ->
                      result.completeExceptionally(
                          new IllegalStateException(
                              "stream ended after " + filled.get() + " bytes")));
          ByteBuffer message = ByteBuffer.allocate(1 + payload.length).put((byte) 'E').put(payload);
          stream.send(Mono.just(message.flip())).block(CALL);
          return result.get(CALL.toSeconds(), TimeUnit.SECONDS);
        }

        @Override
        public void close() {
          TunnelRoute.close(stream);
        }
      };
    }
  }

  // --- CPU -----------------------------------------------------------------------------------

  /** CPU time of the route's relays, this driver and the edge service, and of the machine. */
  private record Cpu(
      long relayNanos, long driverNanos, long edgeNanos, long machineTotal, long machineIdle) {

    static Cpu now(List<Long> relays, long edgePid) {
      long relay = 0;
      for (long pid : relays) {
        relay += treeCpu(pid);
      }
      long[] machine = machine();
      return new Cpu(
          relay,
          cpu(ProcessHandle.current()),
          edgePid > 0 ? treeCpu(edgePid) : 0,
          machine[0],
          machine[1]);
    }

    Cpu minus(Cpu before) {
      return new Cpu(
          relayNanos - before.relayNanos,
          driverNanos - before.driverNanos,
          edgeNanos - before.edgeNanos,
          machineTotal - before.machineTotal,
          machineIdle - before.machineIdle);
    }

    double machineBusy() {
      return machineTotal <= 0 ? 0 : (double) (machineTotal - machineIdle) / machineTotal;
    }

    /** A process and its descendants (sshd forks a process per connection). */
    private static long treeCpu(long pid) {
      return ProcessHandle.of(pid)
          .map(p -> cpu(p) + p.descendants().mapToLong(Cpu::cpu).sum())
          .orElse(0L);
    }

    private static long cpu(ProcessHandle process) {
      return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    /** Total and idle jiffies of the machine, from the first line of /proc/stat. */
    private static long[] machine() {
      try {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long total = 0;
        for (int i = 1; i < Math.min(f.length, 9); i++) {
          total += Long.parseLong(f[i]);
        }
        return new long[] {total, Long.parseLong(f[4]) + Long.parseLong(f[5])};
      } catch (IOException | RuntimeException e) {
        return new long[] {0, 0};
      }
    }
  }

  private static List<Long> pids(String list) {
    if (list == null || list.isBlank()) {
      return List.of();
    }
    return Arrays.stream(list.split(",")).map(String::trim).map(Long::parseLong).toList();
  }

  private static InetSocketAddress address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    return new InetSocketAddress(
        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }
}
