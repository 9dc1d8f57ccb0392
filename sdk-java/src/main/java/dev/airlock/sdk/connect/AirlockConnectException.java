package dev.airlock.sdk.connect;

/**
 * A remote session could not be opened or was refused: the signal node closed the connection with
 * {@link #closeCode()} (0 when the failure was not a close, e.g. a timeout or a DTLS fingerprint
 * mismatch). The message says what was wrong and what to do.
 */
public class AirlockConnectException extends RuntimeException {

  private final int closeCode;

  public AirlockConnectException(String message) {
    this(0, message, null);
  }

  public AirlockConnectException(int closeCode, String message, Throwable cause) {
    super(message, cause);
    this.closeCode = closeCode;
  }

  /** The WebSocket close code that ended the attempt, or 0. */
  public int closeCode() {
    return closeCode;
  }
}
