package dev.airlock.signal.socket;

import org.springframework.web.reactive.socket.CloseStatus;

/**
 * Signalled by a message handler to close its socket with a close code from {@code
 * openapi/signal.yaml} and a reason the peer can act on.
 */
public class CloseException extends RuntimeException {

  private final int code;

  public CloseException(int code, String reason) {
    super(reason, null, false, false);
    this.code = code;
  }

  public int code() {
    return code;
  }

  public CloseStatus status() {
    return PeerSocket.status(code, getMessage());
  }
}
