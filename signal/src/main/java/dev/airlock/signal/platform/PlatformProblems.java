package dev.airlock.signal.platform;

import dev.airlock.sdk.AirlockProblemException;
import org.springframework.web.reactive.function.client.WebClientResponseException;

/** Reads what went wrong in a platform call, to choose a close code and a clear reason. */
public final class PlatformProblems {

  public static final String INVALID_JOIN_TOKEN = "urn:airlock:problem:invalid-join-token";
  public static final String UNAUTHENTICATED = "urn:airlock:problem:unauthenticated";
  public static final String AGENT_REVOKED = "urn:airlock:problem:agent-revoked";
  public static final String TOKEN_REPLAYED = "urn:airlock:problem:token-replayed";

  private PlatformProblems() {}

  /** The problem type the platform answered with, or null when it did not answer. */
  public static String type(Throwable error) {
    return error instanceof AirlockProblemException problem ? problem.problemType() : null;
  }

  /** The HTTP status the platform answered with, or 0 when it did not answer. */
  public static int status(Throwable error) {
    return error instanceof WebClientResponseException response
        ? response.getStatusCode().value()
        : 0;
  }

  /** The platform's own explanation (never a secret), or a description of the failure. */
  public static String detail(Throwable error) {
    if (error instanceof AirlockProblemException problem) {
      String detail = problem.detail() != null ? problem.detail() : problem.title();
      return detail != null ? detail : "HTTP " + problem.status();
    }
    if (error instanceof WebClientResponseException response) {
      return "HTTP " + response.getStatusCode().value();
    }
    return error.getClass().getSimpleName()
        + (error.getMessage() != null ? ": " + error.getMessage() : "");
  }

  /**
   * Whether the platform could not be reached or failed on its side (timeout, refused connection,
   * 5xx): worth retrying, and never the caller's fault.
   */
  public static boolean unreachable(Throwable error) {
    int status = status(error);
    return status == 0 || status >= 500;
  }
}
