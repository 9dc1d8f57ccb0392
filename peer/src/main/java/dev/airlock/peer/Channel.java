package dev.airlock.peer;

import java.nio.ByteBuffer;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One named, ordered, reliable stream of messages between a client and an agent, over a WebRTC data
 * channel or the signal node's relay: the code that uses it cannot tell which.
 *
 * <p>Messages keep their boundaries up to {@link #MAX_MESSAGE} bytes; a longer buffer is sent as
 * several messages. Empty messages are not delivered.
 */
public interface Channel {

  /** The largest message delivered whole (the relay's largest payload). */
  int MAX_MESSAGE = dev.airlock.protocol.RelayFrame.MAX_PAYLOAD;

  /** The label both ends know the channel by, e.g. {@code echo}. */
  String label();

  /**
   * Sends the buffer's remaining bytes (the buffer is not modified). Completes once the bytes are
   * handed to the transport, which is only when its buffer has room: a caller that waits for each
   * send never queues more than about a megabyte. Sends complete in the order they were subscribed.
   * Fails when the channel is closed.
   */
  Mono<Void> send(ByteBuffer message);

  /**
   * The messages received, each a buffer of its own (never reused). Single subscriber; messages
   * that arrive before it subscribes are kept. Completes when the channel closes.
   */
  Flux<ByteBuffer> messages();

  /** Closes the channel (idempotent); pending sends fail and {@link #messages()} completes. */
  Mono<Void> close();
}
