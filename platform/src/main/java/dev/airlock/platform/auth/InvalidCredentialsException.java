package dev.airlock.platform.auth;

/** Credentials were presented and refused; the message says why, for the audit log only. */
public class InvalidCredentialsException extends RuntimeException {

  public InvalidCredentialsException(String reason) {
    super(reason, null, false, false);
  }
}
