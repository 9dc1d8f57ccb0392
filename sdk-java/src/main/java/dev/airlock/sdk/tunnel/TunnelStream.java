package dev.airlock.sdk.tunnel;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An open byte stream to a target an edge node declares ({@code ssh}, {@code app:NAME}, {@code
 * tcp:PORT}), from {@code AirlockClient.tunnel}: what {@link #send(Publisher)} sends arrives at the
 * target, what the target answers comes out of {@link #receive()}, unchanged and in order.
 *
 * <p>Both directions are flow controlled: {@link #receive()} reads from the network only as fast as
 * its subscriber asks (a slow reader slows the target down, through the node, instead of filling
 * this process's memory), and {@link #send(Publisher)} asks its publisher for more only as the
 * connection takes it.
 *
 * <p>The stream has no half-close: it ends as a whole, when either side {@linkplain #close()
 * closes} it or the target closes its connection. Thread-safe.
 */
public final class TunnelStream {

  /** The most bytes one WebSocket frame carries; larger buffers are sent in several frames. */
  public static final int MAX_CHUNK = TunnelSocket.MAX_CHUNK;

  /**
   * How a stream ended: the close code and reason of its WebSocket. {@code 1000} when either side
   * closed it (the reason says which, e.g. {@code target closed the connection}); otherwise one of
   * the codes of {@code openapi/signal.yaml}, e.g. {@code 4410} when the platform terminated the
   * session, {@code 4502} when the node lost the target, {@value #ABNORMAL} when the connection to
   * the signal node was lost.
   */
  public record Ending(int code, String reason) {

    /** The code of a connection lost without a close frame. */
    public static final int ABNORMAL = 1006;

    /** Whether the stream ended as streams do: one side closed it. */
    public boolean normal() {
      return code == CloseCodes.NORMAL;
    }

    @Override
    public String toString() {
      return code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")");
    }
  }

  private final UUID sessionId;
  private final String node;
  private final String target;
  private final TunnelSocket socket;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final AtomicBoolean received = new AtomicBoolean();

  TunnelStream(UUID sessionId, String node, String target, TunnelSocket socket) {
    this.sessionId = sessionId;
    this.node = node;
    this.target = target;
    this.socket = socket;
  }

  /** The session's id (as in {@code GET /api/v1/sessions/{id}}, and in the audit log). */
  public UUID sessionId() {
    return sessionId;
  }

  /** The node, as it was asked for (its name or id). */
  public String node() {
    return node;
  }

  /** The target on the node: {@code ssh}, {@code app:NAME} or {@code tcp:PORT}. */
  public String target() {
    return target;
  }

  /**
   * The target's bytes, in order, as they arrive (buffers of any size); for one subscriber, once.
   * What the target sent before anyone subscribed (an SSH server's banner) is kept for the
   * subscriber. Completes when the stream ends normally, after the last byte; fails with a {@link
   * TunnelException} saying why when it ends otherwise (terminated, target lost, connection lost).
   * Cancelling the subscription closes the stream, as nobody could read it any more.
   *
   * @throws IllegalStateException (in the {@code Flux}) on a second subscription
   */
  public Flux<ByteBuffer> receive() {
    return Flux.defer(
        () -> {
          if (!received.compareAndSet(false, true)) {
            return Flux.error(
                new IllegalStateException(
                    "receive: already subscribed (expected: one subscriber per stream)"));
          }
          return socket.bytes().doOnCancel(() -> close().subscribe());
        });
  }

  /**
   * Sends {@code bytes} to the target after what earlier sends queued, in WebSocket frames of at
   * most {@link #MAX_CHUNK} bytes (larger buffers are split; their content is copied when they are
   * emitted, so the publisher may reuse them). The publisher is asked for more as the connection
   * takes what it sent. Sending does not end the stream: call {@link #close()} for that (e.g. at
   * the end of the local input).
   *
   * @return completes when the publisher has completed and all its bytes are handed to the
   *     connection; fails with the publisher's error, or with an {@link IllegalStateException} when
   *     the stream closes first. Cancelling it stops sending.
   */
  public Mono<Void> send(Publisher<? extends ByteBuffer> bytes) {
    Objects.requireNonNull(bytes, "bytes");
    return socket.send(bytes);
  }

  /**
   * Ends the stream (idempotent): stops what is being sent, tells the node ({@code session.close})
   * and closes the WebSocket with 1000. The target's connection is closed by the node.
   *
   * @return completes when the WebSocket is closed
   */
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          if (closing.compareAndSet(false, true) && socket.isOpen()) {
            socket.send(
                new SignalMessage()
                    .type(MessageType.SESSION_CLOSE)
                    .sessionId(sessionId)
                    .reason("closed by the client"));
            return socket.close(CloseCodes.NORMAL, "stream closed by the client").then();
          }
          return socket.closed().then();
        });
  }

  /** Whether the stream is still open and nobody asked to close it. */
  public boolean isOpen() {
    return socket.isOpen();
  }

  /** Completes once, when the stream has ended however it ended; never fails. */
  public Mono<Ending> closed() {
    return socket.closed();
  }

  @Override
  public String toString() {
    return "TunnelStream[" + target + " on " + node + ", session " + sessionId + "]";
  }
}
