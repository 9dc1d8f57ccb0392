package dev.airlock.cli;

import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.ContainerLauncher.ContainerFailedException;
import dev.airlock.sdk.ContainerLauncher.ContainerTimeoutException;
import dev.airlock.sdk.connect.AirlockConnectException;
import dev.airlock.sdk.model.Container;
import dev.airlock.sdk.model.ContainerState;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.Exceptions;

/**
 * Turns a failure into its exit status and one line on standard error, {@code airlock: <what went
 * wrong>: <detail>}; the stack trace follows only with {@code --debug}. Whatever looks like a
 * credential (an API key, a JWT) is masked in both, whatever the failure quoted.
 */
final class ErrorReporter {

  static final String PREFIX = "airlock: ";

  /**
   * Airlock's secrets by their prefix: API keys {@code alk_}, refresh {@code alr_}, join {@code
   * alj_}.
   */
  private static final Pattern AIRLOCK_SECRET = Pattern.compile("\\b(al[krj]_)[A-Za-z0-9_\\-]+");

  private static final Pattern JWT =
      Pattern.compile("eyJ[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]+\\.[A-Za-z0-9_\\-]*");

  /** Netty's native transport prefixes the system's message with the failed call. */
  private static final Pattern NATIVE_ERROR =
      Pattern.compile("^\\S+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");

  private final PrintStream err;
  private final boolean debug;
  private final String apiKey;

  /**
   * @param apiKey the API key from the environment, masked wherever it appears, or {@code null}
   */
  ErrorReporter(PrintStream err, boolean debug, String apiKey) {
    this.err = err;
    this.debug = debug;
    this.apiKey = apiKey;
  }

  /** Prints the failure and returns the exit status it stands for. */
  int report(Throwable failure) {
    Throwable error = Exceptions.unwrap(failure);
    Verdict verdict = verdict(error);
    String hint =
        !debug && verdict.status() == ExitStatus.UNEXPECTED
            ? " (run the command again with --debug for details)"
            : "";
    err.println(mask(PREFIX + verdict.line() + hint));
    if (debug) {
      StringWriter trace = new StringWriter();
      error.printStackTrace(new PrintWriter(trace));
      err.print(mask(trace.toString()));
    }
    err.flush();
    return verdict.status();
  }

  /**
   * The line {@link #report(Throwable)} would print for the failure, masked, without printing it:
   * for failures that do not end the command (one connection of a listener).
   */
  String line(Throwable failure) {
    return mask(verdict(Exceptions.unwrap(failure)).line());
  }

  /** An exit status and the line that explains it. */
  record Verdict(int status, String line) {}

  static Verdict verdict(Throwable error) {
    if (error instanceof CliException cli) {
      return new Verdict(cli.exitStatus(), cli.getMessage());
    }
    if (error instanceof AirlockProblemException problem) {
      return problem(problem);
    }
    if (error instanceof ContainerFailedException failed) {
      return failed(failed.container());
    }
    if (error instanceof ContainerTimeoutException timedOut) {
      return timedOut(timedOut);
    }
    if (error instanceof AirlockConnectException tunnel) {
      return new Verdict(ExitStatus.TUNNEL_FAILED, tunnel.getMessage());
    }
    if (error instanceof WebClientRequestException request) {
      return new Verdict(
          ExitStatus.RETRY_LATER,
          "cannot reach the platform at "
              + origin(request)
              + ": "
              + NATIVE_ERROR
                  .matcher(String.valueOf(request.getMostSpecificCause().getMessage()))
                  .replaceFirst("")
              + " (retry later, or check the URL)");
    }
    if (error instanceof TimeoutException
        || (error instanceof IllegalStateException
            && String.valueOf(error.getMessage()).startsWith("Timeout on blocking read"))) {
      return new Verdict(
          ExitStatus.RETRY_LATER, "the platform did not answer in time (retry later)");
    }
    if (error instanceof UncheckedIOException io) {
      return new Verdict(
          ExitStatus.UNEXPECTED, io.getMessage() + ": " + io.getCause().getMessage());
    }
    return new Verdict(ExitStatus.UNEXPECTED, "unexpected error: " + error);
  }

  private static Verdict problem(AirlockProblemException problem) {
    StringBuilder line = new StringBuilder(problem.title());
    if (problem.detail() != null && !problem.detail().isBlank()) {
      line.append(": ").append(problem.detail());
    }
    problem.fieldErrors().stream()
        .filter(field -> problem.detail() == null || !problem.detail().contains(field.getField()))
        .forEach(
            field ->
                line.append("; ").append(field.getField()).append(' ').append(field.getMessage()));
    int status = problem.status();
    String type = problem.problemType();
    int exit;
    if (status == 401 || status == 403) {
      exit = ExitStatus.CREDENTIALS;
      if (status == 401 && !type.endsWith(":invalid-credentials")) {
        line.append(" (run 'airlock login', or check " + PlatformAccess.API_KEY_ENV + ")");
      }
    } else if (status == 404) {
      exit = type.endsWith(":route-not-found") ? ExitStatus.UNEXPECTED : ExitStatus.NOT_FOUND;
      if (exit == ExitStatus.UNEXPECTED) {
        line.append(" (is the URL an Airlock platform of this version?)");
      }
    } else if (status == 400) {
      exit = ExitStatus.USAGE;
    } else if (status == 409 && type.endsWith(":agent-offline")) {
      exit = ExitStatus.RETRY_LATER;
      line.append(" (retry when it is back online)");
    } else if (status == 409 && type.endsWith(":job-running")) {
      exit = ExitStatus.RETRY_LATER;
    } else if (status == 429 || status == 502 || status == 503 || status == 504) {
      exit = ExitStatus.RETRY_LATER;
      Duration retryAfter = problem.retryAfter().orElse(null);
      line.append(
          retryAfter == null
              ? " (retry later)"
              : " (retry after " + retryAfter.toSeconds() + " s)");
    } else {
      exit = ExitStatus.UNEXPECTED;
    }
    return new Verdict(exit, line.toString());
  }

  private static Verdict failed(Container container) {
    String reason = container.getReason() == null ? "no reason given" : container.getReason();
    String what =
        container.getState() == ContainerState.DELETED
            ? " was deleted before it was ready: "
            : " failed: ";
    return new Verdict(
        ExitStatus.CONTAINER_FAILED, "container " + container.getId() + what + reason);
  }

  private static Verdict timedOut(ContainerTimeoutException timedOut) {
    Container last = timedOut.container();
    String id = String.valueOf(timedOut.id());
    StringBuilder line =
        new StringBuilder("container ")
            .append(id)
            .append(" is not ready after ")
            .append(DurationConverter.format(timedOut.timeout()));
    if (last != null) {
      line.append(" (last state: ").append(last.getState()).append(')');
    }
    if (timedOut.getCause() != null) {
      line.append(" (the platform did not answer: ")
          .append(Exceptions.unwrap(timedOut.getCause()).getMessage())
          .append(')');
    }
    line.append("; it may still become ready: see 'airlock containers get ")
        .append(id)
        .append("', delete it with 'airlock containers rm ")
        .append(id)
        .append('\'');
    return new Verdict(ExitStatus.TIMED_OUT, line.toString());
  }

  private static String origin(WebClientRequestException request) {
    var uri = request.getUri();
    return uri.getScheme() + "://" + uri.getAuthority();
  }

  String mask(String text) {
    String masked = text;
    if (apiKey != null && !apiKey.isEmpty()) {
      masked = masked.replace(apiKey, "***");
    }
    masked = AIRLOCK_SECRET.matcher(masked).replaceAll("$1***");
    return JWT.matcher(masked).replaceAll("***");
  }
}
