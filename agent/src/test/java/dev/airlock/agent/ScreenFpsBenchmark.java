package dev.airlock.agent;

import dev.airlock.agent.display.Display;
import dev.airlock.peer.DtlsIdentity;
import dev.airlock.peer.PeerLink;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Not a test (no JUnit annotations; surefire does not run it): prints the frame rate a viewer
 * receives from the screen of a private Xvfb whose root colour changes all the time, at 1280x720
 * and 1920x1080, after a 3 s warm-up. Arguments: seconds to measure (10), capture fps (30).
 */
public final class ScreenFpsBenchmark {

  private ScreenFpsBenchmark() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int fps = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    for (int[] size : new int[][] {{1280, 720}, {1920, 1080}}) {
      try (VirtualDisplay x = VirtualDisplay.start(size[0], size[1])) {
        measure(x, size, seconds, fps);
        Thread.sleep(500);
      }
    }
    System.exit(0);
  }

  private static void measure(VirtualDisplay x, int[] size, int seconds, int fps) throws Exception {
    Display display = new Display(x.name, fps, true);
    PeerLink client = PeerLink.offerer(List.of(), null, List.of("control"), true).block();
    PeerLink agent =
        PeerLink.answerer(List.of(), DtlsIdentity.generate(), display.screen().source()).block();
    client.localCandidates().subscribe(agent::addRemoteCandidate);
    agent.localCandidates().subscribe(client::addRemoteCandidate);
    String answer = agent.answer(client.createOffer().block()).block();
    client.acceptAnswer(answer).block();
    Runnable lease = display.screen().start();
    AtomicBoolean painting = new AtomicBoolean(true);
    Thread painter =
        new Thread(
            () -> {
              String[] colours = {"red", "green", "blue", "white", "yellow", "black"};
              for (int i = 0; painting.get(); i++) {
                try {
                  x.run("xsetroot", "-solid", colours[i % colours.length]);
                } catch (Exception e) {
                  return;
                }
              }
            });
    painter.start();
    AtomicLong frames = new AtomicLong();
    AtomicLong fullSize = new AtomicLong();
    client
        .videoFrames(false)
        .subscribe(
            frame -> {
              frames.incrementAndGet();
              if (frame.width() == size[0]) {
                fullSize.incrementAndGet();
              }
            });
    Thread.sleep(3000); // warm-up: the encoder ramps its bitrate up first
    long f0 = frames.get();
    long s0 = fullSize.get();
    Thread.sleep(seconds * 1000L);
    long received = frames.get() - f0;
    long full = fullSize.get() - s0;
    painting.set(false);
    painter.join();
    System.out.printf(
        "%dx%d target %d fps: received %.1f fps (%.0f%% at full size) over %d s%n",
        size[0],
        size[1],
        fps,
        received / (double) seconds,
        100.0 * full / Math.max(1, received),
        seconds);
    lease.run();
    client.close().block(Duration.ofSeconds(10));
    agent.close().block(Duration.ofSeconds(10));
    Thread.sleep(300);
  }
}
