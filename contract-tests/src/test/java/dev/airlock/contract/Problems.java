package dev.airlock.contract;

import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.airlock.sdk.AirlockProblemException;
import java.util.Arrays;
import reactor.core.publisher.Mono;

/** Assertions on the RFC 7807 problems the platform answers with. */
final class Problems {

  static final String PREFIX = "urn:airlock:problem:";

  private Problems() {}

  /** Sends the call and returns the problem it fails with; fails the test if it succeeds. */
  static AirlockProblemException problemOf(Mono<?> call) {
    Object result;
    try {
      result = call.block(CALL_TIMEOUT);
    } catch (AirlockProblemException problem) {
      return problem;
    }
    return fail("expected a problem response, but the call succeeded with: " + result);
  }

  /**
   * Asserts that the call fails with this status and problem type ({@code forbidden} stands for
   * {@code urn:airlock:problem:forbidden}).
   */
  static AirlockProblemException assertProblem(Mono<?> call, int status, String type) {
    AirlockProblemException problem = problemOf(call);
    assertThat(problem.isProblemDocument())
        .as("the %d answer is a problem document: %s", problem.status(), problem.getMessage())
        .isTrue();
    assertThat(problem.status()).as(problem.getMessage()).isEqualTo(status);
    assertThat(problem.problemType()).as(problem.getMessage()).isEqualTo(PREFIX + type);
    assertThat(problem.getHeaders().getContentType())
        .as("Content-Type of %s", problem.getMessage())
        .hasToString("application/problem+json");
    return problem;
  }

  /** Like {@link #assertProblem} where several statuses and types are acceptable. */
  static AirlockProblemException assertProblemAmong(Mono<?> call, int[] statuses, String... types) {
    AirlockProblemException problem = problemOf(call);
    assertThat(problem.isProblemDocument()).as(problem.getMessage()).isTrue();
    assertThat(problem.status())
        .as(problem.getMessage())
        .isIn(Arrays.stream(statuses).boxed().toList());
    assertThat(problem.problemType())
        .as(problem.getMessage())
        .isIn(Arrays.stream(types).map(t -> PREFIX + t).toList());
    return problem;
  }

  /**
   * Asserts a 401 {@code unauthenticated} problem with a {@code WWW-Authenticate: Bearer}
   * challenge.
   */
  static AirlockProblemException assertUnauthenticated(Mono<?> call) {
    AirlockProblemException problem = assertProblem(call, 401, "unauthenticated");
    assertThat(problem.getHeaders().getFirst("WWW-Authenticate"))
        .as("WWW-Authenticate of %s", problem.getMessage())
        .isNotNull()
        .startsWithIgnoringCase("Bearer");
    return problem;
  }
}
