package dev.airlock.bench;

import dev.airlock.peer.Channel;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.connect.ConnectOptions;
import dev.airlock.sdk.connect.RemoteSession;
import dev.airlock.sdk.model.SessionCreate;
import dev.airlock.sdk.model.SessionTransport;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * The client side of the remote-access benchmarks: a user's program on the Java SDK, run by {@code
 * bench/run-remote.sh} in a network namespace of its own (webrtc ignores loopback). A benchmark,
 * not a test. Modes (first argument), options {@code --key=value}:
 *
 * <ul>
 *   <li>{@code latency --url --api-key --target --transport=auto|relay --warmup=10 --count=200}:
 *       sequential connects, each timed from {@code connect()} (which does {@code POST /sessions})
 *       to the first echo of a 32-byte message on channel {@code echo}; then {@code POST /sessions}
 *       alone, to show the platform's share;
 *   <li>{@code sessions --url --api-key --targets=a,b --count=100 --signal-pid}: opens {@code
 *       count} relayed sessions spread over the agents, held open at once, and prints the signal
 *       node's heap after GC before and after;
 *   <li>{@code throughput --url --api-key --target --transport --bytes=52428800}: sends the bytes
 *       in 64 KiB messages on {@code echo} and times until all are back.
 * </ul>
 */
public final class SignalBench {

  private static final Duration CALL = Duration.ofSeconds(40);

  private SignalBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = options(args);
    AirlockClient client =
        AirlockClient.builder().baseUrl(o.get("url")).build().withApiKey(o.get("api-key"));
    int status = 0;
    try {
      switch (args[0]) {
        case "latency" -> latency(client, o);
        case "sessions" -> sessions(client, o);
        case "throughput" -> throughput(client, o);
        default -> throw new IllegalArgumentException("mode: " + args[0]);
      }
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    System.exit(status);
  }

  static Map<String, String> options(String[] args) {
    Map<String, String> o = new LinkedHashMap<>();
    for (String arg : args) {
      if (arg.startsWith("--")) {
        int eq = arg.indexOf('=');
        o.put(arg.substring(2, eq < 0 ? arg.length() : eq), eq < 0 ? "" : arg.substring(eq + 1));
      }
    }
    return o;
  }

  private static ConnectOptions options(String transport) {
    return ConnectOptions.defaults()
        .withTransport("relay".equals(transport) ? SessionTransport.RELAY : SessionTransport.AUTO);
  }

  private static void latency(AirlockClient client, Map<String, String> o) throws Exception {
    String target = o.get("target");
    String transport = o.getOrDefault("transport", "auto");
    int warmup = Integer.parseInt(o.getOrDefault("warmup", "10"));
    int count = Integer.parseInt(o.getOrDefault("count", "200"));
    ConnectOptions options = options(transport);
    Histogram connect = new Histogram(60_000_000L, 3); // µs
    Histogram toSession = new Histogram(60_000_000L, 3);
    Map<String, Integer> paths = new LinkedHashMap<>();
    int failures = 0;
    String firstFailure = null;
    for (int i = 0; i < warmup + count; i++) {
      long t0 = System.nanoTime();
      RemoteSession session;
      try {
        session = client.connect(target, options).block(CALL);
      } catch (RuntimeException e) {
        failures++;
        firstFailure = firstFailure == null ? e.toString() : firstFailure;
        continue;
      }
      long t1 = System.nanoTime();
      Channel echo = session.channel("echo");
      CompletableFuture<ByteBuffer> back = echo.messages().next().toFuture();
      echo.send(ByteBuffer.wrap(new byte[32])).block(CALL);
      back.get(20, TimeUnit.SECONDS);
      long t2 = System.nanoTime();
      if (i >= warmup) {
        connect.recordValue((t2 - t0) / 1000);
        toSession.recordValue((t1 - t0) / 1000);
        paths.merge(session.path().name().toLowerCase(), 1, Integer::sum);
      }
      session.close().block(CALL);
    }
    // POST /sessions alone: what the platform adds to every connect.
    Histogram create = new Histogram(60_000_000L, 3);
    for (int i = 0; i < Math.min(count, 100); i++) {
      long t0 = System.nanoTime();
      client.sessions().createSession(new SessionCreate().target(target)).block(CALL);
      create.recordValue((System.nanoTime() - t0) / 1000);
    }
    System.out.printf(
        "LATENCY transport=%s n=%d paths=%s failures=%d%s%n",
        transport,
        connect.getTotalCount(),
        paths,
        failures,
        firstFailure == null ? "" : " (first: " + firstFailure + ")");
    print("connect → echo round trip", connect);
    print("connect() → RemoteSession", toSession);
    print("POST /sessions alone", create);
  }

  private static void print(String what, Histogram h) {
    System.out.printf(
        "  %-28s p50 %7.1f ms  p90 %7.1f ms  p99 %7.1f ms  max %7.1f ms  (n=%d)%n",
        what,
        h.getValueAtPercentile(50) / 1000.0,
        h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0,
        h.getMaxValue() / 1000.0,
        h.getTotalCount());
  }

  private static void sessions(AirlockClient client, Map<String, String> o) throws Exception {
    String[] targets = o.get("targets").split(",");
    int count = Integer.parseInt(o.getOrDefault("count", "100"));
    long signalPid = Long.parseLong(o.get("signal-pid"));
    ConnectOptions options = options("relay");
    JvmMemory before = JvmMemory.afterGc(signalPid);
    System.out.println("signal node before: " + before);
    System.out.println("signal node before, native memory: " + JvmMemory.nativeSummary(signalPid));
    List<RemoteSession> open = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int i = 0; i < count; i++) {
      RemoteSession session = client.connect(targets[i % targets.length], options).block(CALL);
      Channel echo = session.channel("echo");
      // Keep each echo channel's messages drained, as a real client would.
      AtomicLong got = new AtomicLong();
      echo.messages().subscribe(b -> got.addAndGet(b.remaining()));
      echo.send(ByteBuffer.wrap(new byte[1024])).block(CALL);
      session.channel("info").messages().subscribe(b -> {});
      open.add(session);
    }
    System.out.printf(
        "opened %d relayed sessions in %.1f s%n", open.size(), (System.nanoTime() - t0) / 1e9);
    Thread.sleep(2000);
    JvmMemory after = JvmMemory.afterGc(signalPid);
    System.out.println("signal node after: " + after);
    System.out.println("signal node after, native memory: " + JvmMemory.nativeSummary(signalPid));
    long delta = after.heapUsedBytes() - before.heapUsedBytes();
    System.out.printf(
        "PER-SESSION %d relayed sessions open: heap %+d bytes → %d bytes/session; RSS %+d bytes"
            + " → %d bytes/session%n",
        open.size(),
        delta,
        delta / open.size(),
        after.rssBytes() - before.rssBytes(),
        (after.rssBytes() - before.rssBytes()) / open.size());
    // The same sessions busy: each keeps 64 KiB messages flowing on its echo channel (one in
    // flight per session) while the node's heap is measured after a full GC.
    int busySeconds = Integer.parseInt(o.getOrDefault("busy-seconds", "20"));
    AtomicLong echoed = new AtomicLong();
    long busyUntil = System.nanoTime() + busySeconds * 1_000_000_000L;
    byte[] chunk = new byte[64 * 1024];
    List<Thread> senders = new ArrayList<>();
    for (RemoteSession session : open) {
      Channel echo = session.channel("echo");
      Thread sender =
          new Thread(
              () -> {
                while (System.nanoTime() < busyUntil) {
                  try {
                    echo.send(ByteBuffer.wrap(chunk)).block(CALL);
                    echoed.addAndGet(chunk.length);
                  } catch (RuntimeException e) {
                    return;
                  }
                }
              });
      sender.start();
      senders.add(sender);
    }
    Thread.sleep(busySeconds * 400L);
    JvmMemory busy = JvmMemory.afterGc(signalPid);
    String busyNative = JvmMemory.nativeSummary(signalPid);
    for (Thread sender : senders) {
      sender.join(CALL.toMillis());
    }
    long busyDelta = busy.heapUsedBytes() - before.heapUsedBytes();
    System.out.println("signal node busy: " + busy);
    System.out.println("signal node busy, native memory: " + busyNative);
    System.out.printf(
        "BUSY %d relayed sessions each sending 64 KiB messages for %d s (%.1f MB sent in all,"
            + " %.1f MB/s): heap after GC %+d bytes → %d bytes/session; RSS %+d bytes → %d"
            + " bytes/session%n",
        open.size(),
        busySeconds,
        echoed.get() / 1e6,
        echoed.get() / 1e6 / busySeconds,
        busyDelta,
        busyDelta / open.size(),
        busy.rssBytes() - before.rssBytes(),
        (busy.rssBytes() - before.rssBytes()) / open.size());
    for (RemoteSession session : open) {
      session.close().block(CALL);
    }
  }

  private static void throughput(AirlockClient client, Map<String, String> o) throws Exception {
    String target = o.get("target");
    String transport = o.getOrDefault("transport", "relay");
    long bytes = Long.parseLong(o.getOrDefault("bytes", String.valueOf(50L << 20)));
    int message = Integer.parseInt(o.getOrDefault("message", String.valueOf(64 * 1024)));
    RemoteSession session = client.connect(target, options(transport)).block(CALL);
    Channel echo = session.channel("echo");
    byte[] payload = new byte[message];
    new Random(42).nextBytes(payload);
    AtomicLong received = new AtomicLong();
    CompletableFuture<Void> all = new CompletableFuture<>();
    echo.messages()
        .subscribe(
            b -> {
              if (received.addAndGet(b.remaining()) >= bytes) {
                all.complete(null);
              }
            },
            all::completeExceptionally);
    long t0 = System.nanoTime();
    for (long sent = 0; sent < bytes; sent += message) {
      int n = (int) Math.min(message, bytes - sent);
      echo.send(ByteBuffer.wrap(payload, 0, n)).block(CALL);
    }
    long sentAt = System.nanoTime();
    all.get(300, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf(
        "THROUGHPUT transport=%s path=%s %d bytes in %d-byte messages echoed in %.2f s = %.1f"
            + " MB/s each way (%.1f MB/s both ways); sending took %.2f s%n",
        transport,
        session.path().name().toLowerCase(),
        bytes,
        message,
        seconds,
        bytes / seconds / 1e6,
        2 * bytes / seconds / 1e6,
        (sentAt - t0) / 1e9);
    session.close().block(CALL);
  }
}
