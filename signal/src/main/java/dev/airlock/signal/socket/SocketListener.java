package dev.airlock.signal.socket;

import org.springframework.core.io.buffer.DataBuffer;
import reactor.core.publisher.Mono;

/**
 * Handles what arrives on one {@link PeerSocket}, one message at a time: the next message is not
 * read until the returned {@code Mono} completes, which is how a slow receiver slows its sender.
 * Handlers signal {@link CloseException} or {@link dev.airlock.protocol.ProtocolException} (close
 * 4000) to close the socket.
 */
public interface SocketListener {

  /** A text frame (at most 64 KiB, within the rate limit). */
  Mono<Void> onText(String text);

  /**
   * A binary frame, within the size and rate limits. The listener owns {@code frame}: it must
   * forward it (see {@link PeerSocket#forward(DataBuffer)}) or release it.
   */
  Mono<Void> onBinary(DataBuffer frame);

  /**
   * The socket is gone.
   *
   * @param status the close status this node sent, or the peer's, or null when unknown
   */
  void onClosed(org.springframework.web.reactive.socket.CloseStatus status);
}
