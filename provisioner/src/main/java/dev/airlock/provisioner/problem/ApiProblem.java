package dev.airlock.provisioner.problem;

import dev.airlock.provisioner.api.model.ProblemErrorsInner;
import java.util.List;

/**
 * An error answered to the caller as a problem document. The detail is shown to the caller, so it
 * says what was wrong and what was expected, and never carries a request's environment.
 */
public class ApiProblem extends RuntimeException {

  private final ProblemType type;
  private final List<ProblemErrorsInner> errors;
  private final Integer status;

  public ApiProblem(ProblemType type, String detail) {
    this(type, detail, List.of(), null);
  }

  /**
   * @param status the HTTP status, when it is not the type's own (e.g. 405 for a malformed request)
   */
  public ApiProblem(
      ProblemType type, String detail, List<ProblemErrorsInner> errors, Integer status) {
    super(detail, null, false, false);
    this.type = type;
    this.errors = List.copyOf(errors);
    this.status = status;
  }

  /** A {@code validation} problem listing every field that was wrong. */
  public static ApiProblem validation(List<ProblemErrorsInner> errors) {
    String detail =
        String.join("; ", errors.stream().map(e -> e.getField() + ": " + e.getMessage()).toList());
    return new ApiProblem(ProblemType.VALIDATION, detail, errors, null);
  }

  public ProblemType type() {
    return type;
  }

  public List<ProblemErrorsInner> errors() {
    return errors;
  }

  /** The HTTP status to answer with. */
  public int status() {
    return status != null ? status : type.status().value();
  }
}
