package dev.airlock.platform.problem;

import org.springframework.http.HttpStatus;

/**
 * The stable kinds of API error, as listed under {@code x-airlock-problem-types} in {@code
 * openapi/airlock.yaml}; a test keeps the two in step.
 */
public enum ProblemType {
  MALFORMED_REQUEST(HttpStatus.BAD_REQUEST, "Malformed request"),
  UNKNOWN_PROPERTY(HttpStatus.BAD_REQUEST, "Unknown property"),
  VALIDATION(HttpStatus.BAD_REQUEST, "Invalid request"),
  PAYLOAD_TOO_LARGE(HttpStatus.CONTENT_TOO_LARGE, "Payload too large"),
  UNSUPPORTED_MEDIA_TYPE(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported media type"),
  NOT_ACCEPTABLE(HttpStatus.NOT_ACCEPTABLE, "Not acceptable"),
  UNAUTHENTICATED(HttpStatus.UNAUTHORIZED, "Unauthenticated"),
  INVALID_CREDENTIALS(HttpStatus.UNAUTHORIZED, "Invalid credentials"),
  ACCOUNT_LOCKED(HttpStatus.TOO_MANY_REQUESTS, "Account locked"),
  ACCOUNT_DISABLED(HttpStatus.FORBIDDEN, "Account disabled"),
  PASSWORD_CHANGE_REQUIRED(HttpStatus.FORBIDDEN, "Password change required"),
  FORBIDDEN(HttpStatus.FORBIDDEN, "Forbidden"),
  NOT_FOUND(HttpStatus.NOT_FOUND, "Not found"),
  ROUTE_NOT_FOUND(HttpStatus.NOT_FOUND, "No such route"),
  METHOD_NOT_ALLOWED(HttpStatus.METHOD_NOT_ALLOWED, "Method not allowed"),
  CONFLICT(HttpStatus.CONFLICT, "Conflict"),
  INVALID_JOIN_TOKEN(HttpStatus.UNAUTHORIZED, "Invalid join token"),
  INVALID_AGENT_PROOF(HttpStatus.UNAUTHORIZED, "Invalid agent proof"),
  AGENT_REVOKED(HttpStatus.FORBIDDEN, "Agent revoked"),
  AGENT_OFFLINE(HttpStatus.CONFLICT, "Agent offline"),
  TUNNEL_TARGET_UNKNOWN(HttpStatus.NOT_FOUND, "Tunnel target unknown"),
  TOKEN_REPLAYED(HttpStatus.CONFLICT, "Connect token replayed"),
  QUOTA_EXCEEDED(HttpStatus.TOO_MANY_REQUESTS, "Container quota exceeded"),
  PROVISIONING_UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "No provisioner available"),
  JOB_RUNNING(HttpStatus.CONFLICT, "Job running"),
  DIRECTORY_USER(HttpStatus.CONFLICT, "Directory user"),
  UNAVAILABLE(HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable"),
  INTERNAL(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error");

  private final HttpStatus status;
  private final String title;

  ProblemType(HttpStatus status, String title) {
    this.status = status;
    this.title = title;
  }

  /** The URN in the problem's {@code type}, e.g. {@code urn:airlock:problem:not-found}. */
  public String uri() {
    return "urn:airlock:problem:" + name().toLowerCase().replace('_', '-');
  }

  public HttpStatus status() {
    return status;
  }

  public String title() {
    return title;
  }
}
