package dev.airlock.provisioner.problem;

import org.springframework.http.HttpStatus;

/** The problem types of {@code x-airlock-problem-types} in openapi/provisioner.yaml. */
public enum ProblemType {
  MALFORMED_REQUEST("malformed-request", HttpStatus.BAD_REQUEST, "Malformed request"),
  VALIDATION("validation", HttpStatus.BAD_REQUEST, "Invalid request"),
  UNKNOWN_PROFILE("unknown-profile", HttpStatus.BAD_REQUEST, "Unknown isolation profile"),
  IMAGE_NOT_PRESENT("image-not-present", HttpStatus.UNPROCESSABLE_CONTENT, "Image not present"),
  NOT_FOUND("not-found", HttpStatus.NOT_FOUND, "Not found"),
  CONFLICT("conflict", HttpStatus.CONFLICT, "Conflict"),
  CAPACITY_EXHAUSTED(
      "capacity-exhausted", HttpStatus.TOO_MANY_REQUESTS, "No capacity left on this provisioner"),
  ENGINE_UNAVAILABLE(
      "engine-unavailable", HttpStatus.SERVICE_UNAVAILABLE, "The Docker Engine does not answer"),
  INTERNAL("internal", HttpStatus.INTERNAL_SERVER_ERROR, "Internal error");

  private final String uri;
  private final HttpStatus status;
  private final String title;

  ProblemType(String kind, HttpStatus status, String title) {
    this.uri = "urn:airlock:problem:" + kind;
    this.status = status;
    this.title = title;
  }

  /** The {@code type} member, e.g. {@code urn:airlock:problem:not-found}. */
  public String uri() {
    return uri;
  }

  public HttpStatus status() {
    return status;
  }

  public String title() {
    return title;
  }
}
