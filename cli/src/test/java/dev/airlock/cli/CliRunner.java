package dev.airlock.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the CLI in-process, as {@code main} would but without {@code System.exit}: with its own
 * environment (the configuration directory always a test's own), standard input, and captured
 * standard output and error; never at a terminal.
 */
final class CliRunner {

  /** What one run left behind. */
  record Result(int exit, String out, String err) {

    /** Both streams, for messages and for checking that a secret appears in neither. */
    String all() {
      return out + err;
    }

    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout:\n" + out + "--- stderr:\n" + err;
    }
  }

  private final Map<String, String> env;

  private CliRunner(Map<String, String> env) {
    this.env = env;
  }

  /** A runner whose credentials live in {@code configDir}, with no other variable set. */
  static CliRunner withConfigDir(Path configDir) {
    return new CliRunner(Map.of(CredentialStore.CONFIG_DIR_ENV, configDir.toString()));
  }

  /** The same runner with one more environment variable. */
  CliRunner env(String name, String value) {
    Map<String, String> more = new HashMap<>(env);
    more.put(name, value);
    return new CliRunner(Map.copyOf(more));
  }

  Result run(String... args) {
    return runWithInput("", args);
  }

  Result runWithInput(String stdin, String... args) {
    return runWithInput(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), args);
  }

  Result runWithInput(InputStream stdin, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit = AirlockCli.run(args, context(stdin, out, err));
    return new Result(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** Starts a command that runs until stopped (a listener) on a thread of its own. */
  Running start(String... args) {
    return new Running(this, args);
  }

  private CliContext context(InputStream stdin, OutputStream out, OutputStream err) {
    return new CliContext(
        env,
        stdin,
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        null);
  }

  /** A command running on its own thread, its output readable while it runs. */
  static final class Running {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Thread thread;

    private Running(CliRunner runner, String[] args) {
      CliContext context = runner.context(new ByteArrayInputStream(new byte[0]), out, err);
      thread =
          new Thread(
              () -> exit.complete(AirlockCli.run(args, context)), "cli-" + String.join("-", args));
      thread.setDaemon(true);
      thread.start();
    }

    String out() {
      synchronized (out) {
        return out.toString(StandardCharsets.UTF_8);
      }
    }

    String err() {
      synchronized (err) {
        return err.toString(StandardCharsets.UTF_8);
      }
    }

    /** Waits until standard output has a line matching {@code pattern}, and returns its match. */
    Matcher awaitOut(Pattern pattern, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        Matcher matcher = pattern.matcher(out());
        if (matcher.find()) {
          return matcher;
        }
        if (exit.isDone()) {
          break;
        }
        Thread.sleep(20);
      }
      throw new AssertionError(
          "no output matching "
              + pattern
              + " (exit "
              + exit.getNow(null)
              + ")\n--- stdout:\n"
              + out()
              + "--- stderr:\n"
              + err());
    }

    /** Waits until standard error has {@code text}. */
    void awaitErr(String text, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!err().contains(text)) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no '" + text + "' on stderr:\n" + err());
        }
        Thread.sleep(20);
      }
    }

    /** Interrupts the command (as Ctrl-C would end it) and returns how it ended. */
    Result stop(Duration timeout) throws Exception {
      thread.interrupt();
      int status = exit.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return new Result(status, out(), err());
    }
  }

  /**
   * The CLI's main class in a JVM of its own, with the test's class path, this environment and
   * configuration directory.
   */
  static Process process(Map<String, String> env, Path config, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(AirlockCli.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(name -> name.startsWith("AIRLOCK_"));
    builder.environment().putAll(env);
    builder.environment().put("AIRLOCK_CONFIG_DIR", config.toString());
    return builder.start();
  }
}
