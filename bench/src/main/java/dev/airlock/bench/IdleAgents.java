package dev.airlock.bench;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.Enrolment;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.netty.http.client.HttpClient;

/**
 * How many idle agents one signal node holds, and what each costs it. Speaks the agent protocol
 * ({@code openapi/signal.yaml}) itself, so one JVM plays N agents: each generates an EC P-256
 * identity key, says {@code hello} with an enrolment (join token, public JWK, a random DTLS
 * fingerprint, a unique hostname), waits for {@code welcome}, and then only sends {@code heartbeat}
 * every 20 s. Connections come from several 127.0.0.x source addresses, so ephemeral ports do not
 * run out.
 *
 * <p>Prints the signal node's heap after a full GC and its RSS before and after, the enrolment
 * rate, and the node's CPU while it holds the agents idle. A benchmark, not a test.
 *
 * <p>Arguments ({@code --key=value}): {@code signal-url} (ws://127.0.0.1:port/signal/v1/agent),
 * {@code join-tokens} (comma-separated, used in turn; at most 10,000 uses each), {@code
 * signal-pid}, {@code count} (50000), {@code concurrency} (64), {@code sources} (8: 127.0.0.2 …
 * 127.0.0.9), {@code time-limit} (600 s for enrolling), {@code hold} (70 s: longer than the node's
 * 60 s silence limit, so every agent must have sent heartbeats).
 */
public final class IdleAgents {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Duration HEARTBEAT = Duration.ofSeconds(20);

  private final List<SignalSocket> live = new CopyOnWriteArrayList<>();
  private final Map<SignalSocket, Boolean> closed = new ConcurrentHashMap<>();
  private final AtomicInteger welcomed = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();
  private final AtomicLong welcomeNanos = new AtomicLong();
  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();

  public static void main(String[] args) throws Exception {
    Map<String, String> o = SignalBench.options(args);
    new IdleAgents().run(o);
    System.exit(0);
  }

  private void run(Map<String, String> o) throws Exception {
    URI signal = URI.create(o.get("signal-url"));
    // A join token allows at most 10,000 uses: agent i uses token i mod the number of tokens.
    String[] joinTokens = o.get("join-tokens").split(",");
    long signalPid = Long.parseLong(o.get("signal-pid"));
    int count = Integer.parseInt(o.getOrDefault("count", "50000"));
    int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "64"));
    int sourceCount = Integer.parseInt(o.getOrDefault("sources", "8"));
    Duration timeLimit = Duration.parse("PT" + o.getOrDefault("time-limit", "600s"));
    Duration hold = Duration.parse("PT" + o.getOrDefault("hold", "70s"));
    String run = Long.toString(System.currentTimeMillis(), 36);

    List<HttpClient> clients = new ArrayList<>();
    for (int s = 0; s < sourceCount; s++) {
      InetSocketAddress source = new InetSocketAddress("127.0.0." + (2 + s), 0);
      // No pool: an upgraded WebSocket keeps its connection for good.
      clients.add(
          HttpClient.newConnection()
              .bindAddress(() -> source)
              .responseTimeout(Duration.ofSeconds(30)));
    }

    JvmMemory before = JvmMemory.afterGc(signalPid);
    System.out.println("signal node before: " + before);

    ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor();
    // Every 100 ms, one 200th of the agents sends its heartbeat: each one every 20 s, spread out.
    int slices = (int) (HEARTBEAT.toMillis() / 100);
    AtomicLong tick = new AtomicLong();
    AtomicLong heartbeatsSent = new AtomicLong();
    heartbeats.scheduleAtFixedRate(
        () -> {
          int slice = (int) (tick.getAndIncrement() % slices);
          List<SignalSocket> all = live;
          for (int i = slice; i < all.size(); i += slices) {
            SignalSocket socket = all.get(i);
            if (socket.isOpen()) {
              socket.send(new SignalMessage().type(MessageType.HEARTBEAT));
              heartbeatsSent.incrementAndGet();
            }
          }
        },
        100,
        100,
        TimeUnit.MILLISECONDS);

    Semaphore inFlight = new Semaphore(concurrency);
    long start = System.nanoTime();
    long deadline = start + timeLimit.toNanos();
    long lastReport = start;
    int launched = 0;
    ECKeyGenerator generator = new ECKeyGenerator(Curve.P_256);
    for (int i = 0; i < count && System.nanoTime() < deadline; i++) {
      while (!inFlight.tryAcquire(200, TimeUnit.MILLISECONDS)) {
        if (System.nanoTime() > deadline) {
          break;
        }
      }
      if (System.nanoTime() > deadline) {
        break;
      }
      ECKey key = generator.generate();
      SignalMessage hello =
          new SignalMessage()
              .type(MessageType.HELLO)
              .protocol(SignalCodec.VERSION)
              .enrol(
                  new Enrolment()
                      .joinToken(joinTokens[i % joinTokens.length])
                      .publicKey(key.toPublicJWK().toJSONString())
                      .dtlsFingerprint(fingerprint())
                      .hostname("bench-idle-" + run + "-" + i)
                      .version("bench"));
      enrol(clients.get(i % clients.size()), signal, hello, inFlight);
      launched++;
      long now = System.nanoTime();
      if (now - lastReport > 10_000_000_000L) {
        lastReport = now;
        double seconds = (now - start) / 1e9;
        System.out.printf(
            "  %.0f s: %d welcomed (%.0f/s), %d refused, %d launched%n",
            seconds, welcomed.get(), welcomed.get() / seconds, refused.get(), launched);
      }
    }
    // The last ones in flight.
    inFlight.tryAcquire(concurrency, 60, TimeUnit.SECONDS);
    double enrolSeconds = (System.nanoTime() - start) / 1e9;
    int done = welcomed.get();
    System.out.printf(
        "ENROLLED %d of %d asked (%d launched) in %.1f s = %.1f enrolments/s; %d refused %s;"
            + " mean hello→welcome %.1f ms (%d in flight)%n",
        done,
        count,
        launched,
        enrolSeconds,
        done / enrolSeconds,
        refused.get(),
        refusals,
        done == 0 ? 0 : welcomeNanos.get() / 1e6 / done,
        concurrency);

    // Hold them idle past the node's silence limit: only heartbeats keep them there.
    long cpuBefore = cpuNanos(signalPid);
    Thread.sleep(hold.toMillis());
    long cpuHold = cpuNanos(signalPid) - cpuBefore;
    long open = live.stream().filter(s -> !closed.containsKey(s)).count();
    JvmMemory after = JvmMemory.afterGc(signalPid);
    System.out.println("signal node after: " + after);
    long heapDelta = after.heapUsedBytes() - before.heapUsedBytes();
    long rssDelta = after.rssBytes() - before.rssBytes();
    System.out.printf(
        "IDLE %d still connected after %d s idle (%d heartbeats sent); signal node CPU while"
            + " idle: %.1f %% of one core%n",
        open, hold.toSeconds(), heartbeatsSent.get(), 100.0 * cpuHold / hold.toNanos());
    System.out.printf(
        "PER-CONNECTION heap %+d → %d bytes/connection (%s → %s); RSS %s → %s = %d bytes/connection%n",
        heapDelta,
        open == 0 ? 0 : heapDelta / open,
        JvmMemory.mib(before.heapUsedBytes()),
        JvmMemory.mib(after.heapUsedBytes()),
        JvmMemory.mib(before.rssBytes()),
        JvmMemory.mib(after.rssBytes()),
        open == 0 ? 0 : rssDelta / open);
    heartbeats.shutdownNow();
  }

  private void enrol(HttpClient client, URI signal, SignalMessage hello, Semaphore inFlight) {
    long t0 = System.nanoTime();
    AtomicInteger settled = new AtomicInteger();
    Runnable release =
        () -> {
          if (settled.compareAndSet(0, 1)) {
            inFlight.release();
          }
        };
    SignalSocket.connect(client, signal)
        .timeout(Duration.ofSeconds(30))
        .subscribe(
            socket -> {
              socket
                  .messages()
                  .subscribe(
                      message -> {
                        if (message.getType() == MessageType.WELCOME && settled.get() == 0) {
                          welcomeNanos.addAndGet(System.nanoTime() - t0);
                          welcomed.incrementAndGet();
                          live.add(socket);
                          release.run();
                        }
                      },
                      error -> {},
                      () -> {});
              socket
                  .closed()
                  .subscribe(
                      c -> {
                        closed.put(socket, Boolean.TRUE);
                        if (settled.get() == 0) {
                          refusal(String.valueOf(c));
                          release.run();
                        }
                      });
              socket.send(hello);
            },
            error -> {
              refusal(error.getClass().getSimpleName() + ": " + error.getMessage());
              release.run();
            });
  }

  private void refusal(String why) {
    refused.incrementAndGet();
    String key = why.length() > 80 ? why.substring(0, 80) : why;
    if (refusals.size() < 10 || refusals.containsKey(key)) {
      refusals.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    }
  }

  private static String fingerprint() {
    byte[] digest = new byte[32];
    RANDOM.nextBytes(digest);
    return "sha-256 " + HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest);
  }

  private static long cpuNanos(long pid) {
    return ProcessHandle.of(pid)
        .flatMap(p -> p.info().totalCpuDuration())
        .map(Duration::toNanos)
        .orElse(0L);
  }
}
