package dev.airlock.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

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
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    CliContext context =
        new CliContext(
            env,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            null);
    int exit = AirlockCli.run(args, context);
    return new Result(
        exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
