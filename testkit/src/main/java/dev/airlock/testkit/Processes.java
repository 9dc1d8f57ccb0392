package dev.airlock.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What {@link PlatformProcess} and {@link ManagedProcess} do alike with their process. */
final class Processes {

  private Processes() {}

  /** Stops {@code process}: SIGTERM, then a kill if it has not exited within {@code grace}. */
  static void stop(Process process, Duration grace) throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The last {@code count} of {@code lines}, framed with {@code what} and the log file's path. */
  static String tail(List<String> lines, int count, String what, Path log) {
    List<String> tail = lines.subList(Math.max(0, lines.size() - count), lines.size());
    return "----- last "
        + tail.size()
        + " lines of "
        + what
        + " ("
        + log
        + ") -----\n"
        + String.join("\n", tail)
        + "\n----- end of "
        + what
        + " -----";
  }
}
