package dev.airlock.bench;

import dev.airlock.peer.Channel;
import dev.airlock.peer.PeerLink;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.connect.ConnectOptions;
import dev.airlock.sdk.connect.RemoteSession;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import reactor.core.Disposable;

/**
 * The viewer side of the remote-view benchmarks (BENCHMARKS.md, "Remote view"), run by {@code
 * bench/run-remote.sh view} in the client namespace: a Java SDK session with video, to an agent
 * whose display shows {@code bench/view-page.html} in Chromium. A benchmark, not a test.
 *
 * <ul>
 *   <li>Frame rate: frames decoded per second over {@code --seconds} while the page animates, their
 *       size, and the CPU time of the agent's process ({@code --agent-pid}) and of the display's
 *       processes ({@code --display-pids}, Xvfb and Chromium) over the same time.
 *   <li>Input to photon: {@code --count} times, a key press is sent on {@code input}; the page
 *       flips its centre square black ↔ white on every key; the time from the send to the first
 *       decoded frame whose centre has the new colour.
 * </ul>
 */
public final class ViewBench {

  private static final Duration CALL = Duration.ofSeconds(40);

  private ViewBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> o = SignalBench.options(args);
    AirlockClient client =
        AirlockClient.builder().baseUrl(o.get("url")).build().withApiKey(o.get("api-key"));
    int status = 0;
    try {
      run(client, o);
    } catch (Throwable e) {
      e.printStackTrace();
      status = 1;
    }
    System.out.flush();
    System.exit(status);
  }

  private static void run(AirlockClient client, Map<String, String> o) throws Exception {
    int seconds = Integer.parseInt(o.getOrDefault("seconds", "20"));
    int count = Integer.parseInt(o.getOrDefault("count", "50"));
    ProcessHandle agent = ProcessHandle.of(Long.parseLong(o.get("agent-pid"))).orElseThrow();
    List<ProcessHandle> display =
        o.getOrDefault("display-pids", "").isBlank()
            ? List.of()
            : java.util.Arrays.stream(o.get("display-pids").split(","))
                .map(pid -> ProcessHandle.of(Long.parseLong(pid.trim())).orElseThrow())
                .toList();
    RemoteSession session =
        client
            .connect(
                o.get("target"),
                ConnectOptions.defaults().withVideo(true).withChannels(List.of("control", "input")))
            .block(CALL);
    try {
      System.out.println("path: " + session.path());
      session.channel("control").messages().subscribe();
      frameRate(session, seconds, agent, display);
      inputToPhoton(session, count, o.get("trace"));
    } finally {
      session.close().block(CALL);
    }
  }

  private static void frameRate(
      RemoteSession session, int seconds, ProcessHandle agent, List<ProcessHandle> display)
      throws InterruptedException {
    AtomicLong frames = new AtomicLong();
    AtomicReference<String> size = new AtomicReference<>("none");
    long start = System.nanoTime();
    long[] perSecond = new long[seconds + 4];
    Disposable counting =
        session
            .videoFrames(false)
            .subscribe(
                frame -> {
                  frames.incrementAndGet();
                  size.set(frame.width() + "x" + frame.height());
                  int second = (int) ((System.nanoTime() - start) / 1_000_000_000L);
                  if (second < perSecond.length) {
                    perSecond[second]++;
                  }
                });
    Thread.sleep(3000); // warm-up: the first key frame, the decoder's start
    long f0 = frames.get();
    long a0 = cpu(agent);
    long d0 = display.stream().mapToLong(ViewBench::cpu).sum();
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long elapsed = System.nanoTime() - t0;
    long received = frames.get() - f0;
    double agentCores = (double) (cpu(agent) - a0) / elapsed;
    double displayCores =
        (double) (display.stream().mapToLong(ViewBench::cpu).sum() - d0) / elapsed;
    counting.dispose();
    System.out.printf(
        "frame rate: %.1f fps over %d s (%d frames, last %s); agent CPU %.0f%% of a core;"
            + " Xvfb + Chromium %.0f%%%n",
        received / (elapsed / 1e9),
        seconds,
        received,
        size.get(),
        agentCores * 100,
        displayCores * 100);
    // The same frames by the second since the session started: how long the sender's bandwidth
    // estimate takes to allow the full rate (libwebrtc starts it at 300 kb/s), and the rate after.
    StringBuilder bySecond = new StringBuilder();
    for (int i = 0; i < 3 + seconds; i++) {
      bySecond.append(i == 0 ? "" : " ").append(perSecond[i]);
    }
    int steadyFrom = Math.max(3, 3 + seconds - 10);
    long steady = 0;
    for (int i = steadyFrom; i < 3 + seconds; i++) {
      steady += perSecond[i];
    }
    int full = -1;
    for (int i = 0; i < 3 + seconds && full < 0; i++) {
      if (perSecond[i] >= 28) {
        full = i;
      }
    }
    System.out.printf(
        "frames by second since the session started: %s%n"
            + "steady: %.1f fps over seconds %d to %d; first second at 28 frames or more: %s%n",
        bySecond,
        steady / (double) (3 + seconds - steadyFrom),
        steadyFrom,
        3 + seconds,
        full < 0 ? "none" : String.valueOf(full));
  }

  private static void inputToPhoton(RemoteSession session, int count, String traceFile)
      throws Exception {
    java.io.PrintWriter trace =
        traceFile == null ? null : new java.io.PrintWriter(new java.io.FileWriter(traceFile), true);
    Channel input = session.channel("input");
    AtomicReference<PeerLink.ReceivedFrame> latest = new AtomicReference<>();
    Object seen = new Object();
    Disposable watching =
        session
            .videoFrames(true)
            .subscribe(
                frame -> {
                  latest.set(frame);
                  synchronized (seen) {
                    seen.notifyAll();
                  }
                });
    Histogram micros = new Histogram(10_000_000L, 3);
    Map<String, Object> before = session.videoStats().block(CALL);
    int lost = 0;
    try {
      for (int i = 0; i < count + 5; i++) {
        boolean wasWhite = white(await(latest, seen, null, 5000));
        long sent = System.nanoTime();
        key(input, true);
        key(input, false);
        PeerLink.ReceivedFrame changed = await(latest, seen, !wasWhite, 3000);
        if (changed == null) {
          lost++;
          continue;
        }
        long arrived = System.nanoTime();
        if (i >= 5) {
          micros.recordValue((arrived - sent) / 1000);
          if (trace != null) {
            trace.printf("%d %d%n", sent, arrived);
          }
        }
        Thread.sleep(100);
      }
    } finally {
      watching.dispose();
      if (trace != null) {
        trace.close();
      }
    }
    System.out.printf(
        "input to photon: p50 %.1f ms, p95 %.1f ms, max %.1f ms over %d presses (%d without a"
            + " change within 3 s)%n",
        micros.getValueAtPercentile(50) / 1000.0,
        micros.getValueAtPercentile(95) / 1000.0,
        micros.getMaxValue() / 1000.0,
        micros.getTotalCount(),
        lost);
    receiver(before, session.videoStats().block(CALL));
  }

  /**
   * What the viewer's libwebrtc did with the frames between two {@code inbound-rtp} readings: the
   * mean time a frame waited in the jitter buffer (and the buffer's target), the mean decode time,
   * and the frames it dropped.
   */
  private static void receiver(Map<String, Object> before, Map<String, Object> after) {
    if (before == null || after == null) {
      return;
    }
    double emitted = delta(before, after, "jitterBufferEmittedCount");
    double decoded = delta(before, after, "framesDecoded");
    System.out.printf(
        "receiver: jitter buffer %.1f ms a frame (target %.1f ms), decode %.1f ms a frame,"
            + " %.0f frames dropped, %.0f decoded%n",
        emitted == 0 ? 0 : delta(before, after, "jitterBufferDelay") * 1000 / emitted,
        emitted == 0 ? 0 : delta(before, after, "jitterBufferTargetDelay") * 1000 / emitted,
        decoded == 0 ? 0 : delta(before, after, "totalDecodeTime") * 1000 / decoded,
        delta(before, after, "framesDropped"),
        decoded);
  }

  private static double delta(Map<String, Object> before, Map<String, Object> after, String name) {
    return value(after, name) - value(before, name);
  }

  private static double value(Map<String, Object> stats, String name) {
    return stats.get(name) instanceof Number number ? number.doubleValue() : 0;
  }

  /** The next frame (after now) whose centre is white == {@code wantWhite}, or any when null. */
  private static PeerLink.ReceivedFrame await(
      AtomicReference<PeerLink.ReceivedFrame> latest, Object seen, Boolean wantWhite, long ms)
      throws InterruptedException {
    long deadline = System.nanoTime() + ms * 1_000_000L;
    PeerLink.ReceivedFrame start = latest.get();
    while (System.nanoTime() < deadline) {
      PeerLink.ReceivedFrame frame = latest.get();
      if (frame != null && frame != start && (wantWhite == null || white(frame) == wantWhite)) {
        return frame;
      }
      synchronized (seen) {
        seen.wait(5);
      }
    }
    return wantWhite == null ? latest.get() : null;
  }

  private static boolean white(PeerLink.ReceivedFrame frame) {
    if (frame == null) {
      return false;
    }
    int rgb = frame.rgb(frame.width() / 2, frame.height() / 2);
    int luma = ((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff);
    return luma > 3 * 128;
  }

  private static void key(Channel input, boolean down) {
    String json = "{\"type\":\"key\",\"code\":\"Space\",\"key\":\" \",\"down\":" + down + "}";
    input.send(ByteBuffer.wrap(json.getBytes(StandardCharsets.UTF_8))).block(CALL);
  }

  private static long cpu(ProcessHandle process) {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }
}
