package dev.airlock.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A program under test running as its own process, optionally inside a network namespace ({@code ip
 * netns exec}), with its output in a log file that failure messages quote.
 */
public final class ManagedProcess implements AutoCloseable {

  private static final int TAIL_LINES = 80;
  private static final Duration STOP_GRACE = Duration.ofSeconds(15);

  private final String name;
  private final Process process;
  private final Path log;

  private ManagedProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
  }

  /** The java executable running these tests. */
  public static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * Starts {@code command} in namespace {@code netns} (null: this one); output goes to {@code log}
   * (appended, so a restarted program keeps one log).
   */
  public static ManagedProcess start(String name, String netns, List<String> command, Path log)
      throws IOException {
    Files.createDirectories(log.getParent());
    List<String> full = new ArrayList<>();
    if (netns != null) {
      full.addAll(List.of("ip", "netns", "exec", netns));
    }
    full.addAll(command);
    Process process =
        new ProcessBuilder(full)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
    return new ManagedProcess(name, process, log);
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /**
   * Waits for a line of output matching {@code regex} that appears after the first {@code skip}
   * matches; returns the match.
   *
   * @throws IllegalStateException when the process exits or the timeout passes first, quoting the
   *     output
   */
  public Matcher awaitLine(String regex, int skip, Duration timeout) throws InterruptedException {
    Pattern pattern = Pattern.compile(regex);
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      int seen = 0;
      for (String line : lines()) {
        Matcher m = pattern.matcher(line);
        if (m.find() && seen++ >= skip) {
          return m;
        }
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name
                + " exited with status "
                + process.exitValue()
                + " before printing /"
                + regex
                + "/\n"
                + outputTail());
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            name
                + " did not print /"
                + regex
                + "/ within "
                + timeout.toSeconds()
                + " s\n"
                + outputTail());
      }
      Thread.sleep(100);
    }
  }

  /** How many lines of output match {@code regex} so far. */
  public long countLines(String regex) {
    Pattern pattern = Pattern.compile(regex);
    return lines().stream().filter(l -> pattern.matcher(l).find()).count();
  }

  /** Waits for the process to exit; emits its status, or throws when it does not in time. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IllegalStateException(
          name + " still runs after " + timeout.toMillis() + " ms\n" + outputTail());
    }
    return process.exitValue();
  }

  /** Everything the process printed so far. */
  public List<String> lines() {
    try {
      return Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return List.of();
    }
  }

  /** The last lines of output, with the log's path. */
  public String outputTail() {
    return Processes.tail(lines(), TAIL_LINES, name, log);
  }

  /** SIGTERM, then SIGKILL after 15 s; for a namespace, the signal reaches the program itself. */
  @Override
  public void close() throws InterruptedException {
    // `ip netns exec` execs the program, so this pid is the program's own.
    Processes.stop(process, STOP_GRACE);
  }
}
