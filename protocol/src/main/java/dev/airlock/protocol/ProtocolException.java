package dev.airlock.protocol;

/**
 * A peer sent something the protocol does not allow; the message says what and what was expected.
 */
public class ProtocolException extends RuntimeException {

  public ProtocolException(String message) {
    super(message);
  }
}
