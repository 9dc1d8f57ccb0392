package dev.airlock.platform.provision;

/**
 * A provisioner call failed; the message says which provisioner and why, in words fit for a
 * container's {@code reason} (never a secret, never a stack trace).
 */
public class ProvisionException extends RuntimeException {

  private final boolean clientError;

  public ProvisionException(String message, boolean clientError, Throwable cause) {
    super(message, cause, false, false);
    this.clientError = clientError;
  }

  /** True when the provisioner refused the request itself (4xx): trying elsewhere may help. */
  public boolean clientError() {
    return clientError;
  }
}
