package dev.airlock.platform.problem;

import dev.airlock.platform.api.model.FieldError;
import java.util.List;
import java.util.Map;

/**
 * An error the API reports to its caller as a problem document. The detail is shown to the caller,
 * so it must say what was wrong and what was expected, and never carry a secret.
 */
public class ApiProblem extends RuntimeException {

  private final ProblemType type;
  private final List<FieldError> errors;
  private final Map<String, String> headers;
  private String instance;

  public ApiProblem(ProblemType type, String detail) {
    this(type, detail, List.of(), Map.of());
  }

  public ApiProblem(
      ProblemType type, String detail, List<FieldError> errors, Map<String, String> headers) {
    super(detail, null, false, false);
    this.type = type;
    this.errors = List.copyOf(errors);
    this.headers = Map.copyOf(headers);
  }

  public static ApiProblem notFound(String kind, Object id) {
    return new ApiProblem(ProblemType.NOT_FOUND, "No " + kind + " " + id);
  }

  public static ApiProblem conflict(String detail) {
    return new ApiProblem(ProblemType.CONFLICT, detail);
  }

  public static ApiProblem validation(String field, String message) {
    return new ApiProblem(
        ProblemType.VALIDATION,
        field + ": " + message,
        List.of(new FieldError().field(field).message(message)),
        Map.of());
  }

  /** A validation problem listing every field that was wrong (at least one). */
  public static ApiProblem validation(List<FieldError> errors) {
    String detail =
        String.join("; ", errors.stream().map(e -> e.getField() + ": " + e.getMessage()).toList());
    return new ApiProblem(ProblemType.VALIDATION, detail, errors, Map.of());
  }

  public ProblemType type() {
    return type;
  }

  public List<FieldError> errors() {
    return errors;
  }

  /** Identifies this occurrence (e.g. in the server log), or null. */
  public String instance() {
    return instance;
  }

  /** Sets {@link #instance()}; returns this problem. */
  public ApiProblem instance(String instance) {
    this.instance = instance;
    return this;
  }

  /** Extra response headers, e.g. {@code Retry-After}. */
  public Map<String, String> headers() {
    return headers;
  }
}
