package dev.airlock.provisioner.engine;

/**
 * The Docker Engine did not answer: its socket is missing or refuses connections, or an operation
 * ran past its timeout. Answered as {@code 503 engine-unavailable}; the message names the socket
 * and what failed, never a request's environment.
 */
public class EngineUnavailableException extends RuntimeException {

  public EngineUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
