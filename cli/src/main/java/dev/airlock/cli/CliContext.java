package dev.airlock.cli;

import java.io.Console;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * What a command may use of the world outside: the environment, the standard streams and, when the
 * CLI runs at a terminal, the terminal. Tests pass their own; {@link #system()} is the real one.
 *
 * @param env the environment variables
 * @param in standard input (passwords with {@code --password-stdin})
 * @param out standard output: results only (one JSON document with {@code --output json})
 * @param err standard error: progress, notes and error lines
 * @param terminal the terminal, or {@code null} when standard input or output is not one
 */
record CliContext(
    Map<String, String> env, InputStream in, PrintStream out, PrintStream err, Terminal terminal) {

  /** A terminal the CLI can ask questions at. */
  interface Terminal {

    /** Prints the prompt and reads one line, or returns {@code null} at end of input. */
    String readLine(String prompt);

    /** Prints the prompt and reads one line without echoing it, or {@code null} at end of input. */
    char[] readPassword(String prompt);
  }

  /** The process's own environment, streams and console. */
  static CliContext system() {
    Console console = System.console();
    Terminal terminal = null;
    if (console != null && isTerminal(console)) {
      terminal =
          new Terminal() {
            @Override
            public String readLine(String prompt) {
              return console.readLine("%s", prompt);
            }

            @Override
            public char[] readPassword(String prompt) {
              return console.readPassword("%s", prompt);
            }
          };
    }
    return new CliContext(System.getenv(), System.in, System.out, System.err, terminal);
  }

  /** Whether the CLI runs at a terminal (and may prompt and draw a progress line). */
  boolean interactive() {
    return terminal != null;
  }

  /** The variable's value, or {@code null} when it is unset or blank. */
  String env(String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? null : value.strip();
  }

  /**
   * Java 22 and later return a console even when the streams are redirected and tell with {@code
   * Console.isTerminal()}; up to 21 a console exists only at a terminal.
   */
  private static boolean isTerminal(Console console) {
    try {
      Method isTerminal = Console.class.getMethod("isTerminal");
      return (Boolean) isTerminal.invoke(console);
    } catch (NoSuchMethodException beforeJava22) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }
}
