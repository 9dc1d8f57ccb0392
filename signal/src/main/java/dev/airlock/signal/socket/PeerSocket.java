package dev.airlock.signal.socket;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.signal.limit.SocketRateLimit;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One live WebSocket, agent's or client's. Inbound frames are checked against the size and rate
 * limits and handed to a {@link SocketListener} one at a time; outbound messages are queued in
 * order and written as the peer reads them. {@link #close(int, String)} sends what is queued, then
 * the close frame.
 *
 * <p>Relayed binary frames are forwarded without copying: the inbound Netty buffer is retained and
 * becomes the outbound frame. When more than {@link OutboundQueue#HIGH_WATER} bytes wait for this
 * socket, {@link #forward(DataBuffer)} holds its caller until the queue drains, so the sending
 * peer's socket stops being read (TCP backpressure) instead of this node buffering without bound.
 */
public final class PeerSocket {

  /** Whose socket it is. */
  public enum Kind {
    AGENT,
    CLIENT
  }

  /** How long a close may wait for queued messages before the close frame goes anyway. */
  static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

  private static final Logger log = LoggerFactory.getLogger(PeerSocket.class);

  private final WebSocketSession session;
  private final Kind kind;
  private final SocketRateLimit rateLimit = new SocketRateLimit();
  private final OutboundQueue<WebSocketMessage> outbound =
      new OutboundQueue<>(
          WebSocketMessage.class,
          message -> message.getPayload().readableByteCount(),
          PeerSocket::release);
  private final AtomicReference<CloseStatus> closing = new AtomicReference<>();
  private final Sinks.Empty<Void> gone = Sinks.empty();
  private volatile CloseStatus peerStatus;
  private volatile boolean binaryUnlimited;

  public PeerSocket(WebSocketSession session, Kind kind) {
    this.session = session;
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** What carries this socket: a WebSocket, or an edge node's signalling stream. */
  public WebSocketSession session() {
    return session;
  }

  /** The peer's address, for log lines. */
  public String remote() {
    var address = session.getHandshakeInfo().getRemoteAddress();
    return address == null ? "?" : address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  /** Whether this socket still sends (no close requested, peer still there). */
  public boolean isOpen() {
    return closing.get() == null;
  }

  /** Completes when the socket is gone. */
  public Mono<Void> whenGone() {
    return gone.asMono();
  }

  /**
   * Runs the socket with {@code listener} until it is closed by either side.
   *
   * @return completes when the socket is gone, after {@link SocketListener#onClosed}
   */
  public Mono<Void> run(SocketListener listener) {
    session.closeStatus().subscribe(status -> peerStatus = status, error -> {});
    Mono<Void> sending =
        session
            .send(outbound.messages())
            .onErrorResume(error -> Mono.empty())
            .then(Mono.defer(() -> session.close(closeStatus())))
            .onErrorResume(error -> Mono.empty());
    Mono<Void> receiving =
        session
            .receive()
            // The buffer is freed when this callback returns; keep it until handled.
            .doOnNext(WebSocketMessage::retain)
            .concatMap(message -> handle(message, listener), 1)
            .doOnDiscard(WebSocketMessage.class, PeerSocket::release)
            .onErrorResume(
                error -> {
                  closeFor(error);
                  return Mono.empty();
                })
            .then()
            .doFinally(signal -> close(CloseCodes.NORMAL, ""));
    return Mono.when(sending, receiving)
        .doFinally(
            signal -> {
              outbound.wakeWaiters();
              CloseStatus ours = closing.get();
              CloseStatus status = peerStatus != null ? peerStatus : ours;
              try {
                listener.onClosed(status);
              } finally {
                gone.tryEmitEmpty();
              }
            });
  }

  private Mono<Void> handle(WebSocketMessage message, SocketListener listener) {
    if (!isOpen()) {
      // Closing: whatever the peer still sends is not acted upon.
      release(message);
      return Mono.empty();
    }
    Mono<Void> handled;
    if (message.getType() == WebSocketMessage.Type.TEXT) {
      handled = text(message, listener);
    } else if (message.getType() == WebSocketMessage.Type.BINARY) {
      String violation = binaryUnlimited ? null : rateLimit.admitBinary();
      if (violation != null) {
        release(message);
        return closing(CloseCodes.RATE_LIMITED, violation);
      }
      handled = Mono.defer(() -> listener.onBinary(message.getPayload()));
    } else {
      // Pings and pongs are answered by reactor-netty; nothing to do.
      release(message);
      return Mono.empty();
    }
    return handled.onErrorResume(
        error -> {
          closeFor(error);
          return Mono.empty();
        });
  }

  private Mono<Void> text(WebSocketMessage message, SocketListener listener) {
    int size = message.getPayload().readableByteCount();
    String text;
    try {
      if (size > SignalCodec.MAX_TEXT_FRAME) {
        return closing(
            CloseCodes.TOO_BIG,
            "text message of "
                + size
                + " bytes (expected: at most "
                + SignalCodec.MAX_TEXT_FRAME
                + ")");
      }
      String violation = rateLimit.admitText();
      if (violation != null) {
        return closing(CloseCodes.RATE_LIMITED, violation);
      }
      text = message.getPayload().toString(StandardCharsets.UTF_8);
    } finally {
      release(message);
    }
    return Mono.defer(() -> listener.onText(text));
  }

  private Mono<Void> closing(int code, String reason) {
    close(code, reason);
    return Mono.empty();
  }

  private void closeFor(Throwable error) {
    if (error instanceof CloseException close) {
      close(close.code(), close.getMessage());
    } else if (error instanceof ProtocolException protocol) {
      close(CloseCodes.PROTOCOL_ERROR, protocol.getMessage());
    } else if (error instanceof TooLongFrameException
        || error instanceof CorruptedWebSocketFrameException) {
      close(CloseCodes.TOO_BIG, "message too big: " + error.getMessage());
    } else if (error instanceof java.io.IOException) {
      // The peer went away without a close frame (a killed container, a dropped link): not our
      // fault, and nobody is left to tell.
      log.info("A {} socket from {} was lost: {}", kind, remote(), error.getMessage());
      close(1001, "connection lost");
    } else {
      log.error("Closing a {} socket from {} after an internal error", kind, remote(), error);
      close(1011, "internal error");
    }
  }

  /**
   * Lifts the binary frame rate limit: for a tunnel stream, whose bytes HTTP/2 flow control already
   * bounds, and which carries bulk transfers in frames of any size.
   */
  public void unlimitBinaryFrames() {
    binaryUnlimited = true;
  }

  /** Queues a message; dropped when the socket is closing. */
  public void send(SignalMessage message) {
    if (isOpen()) {
      outbound.offer(session.textMessage(SignalCodec.encode(message)));
    }
  }

  /**
   * Queues a relayed binary frame, taking ownership of {@code frame} (released if the socket is
   * closing). Completes when the frame is queued; waits first while this socket's queue is full.
   */
  public Mono<Void> forward(DataBuffer frame) {
    return outbound.forward(new WebSocketMessage(WebSocketMessage.Type.BINARY, frame));
  }

  /**
   * Sends what is queued, then closes with {@code code} and {@code reason} (at most 123 bytes of
   * UTF-8, as WebSocket allows). Only the first close counts.
   */
  public void close(int code, String reason) {
    CloseStatus status = status(code, reason);
    if (!closing.compareAndSet(null, status)) {
      return;
    }
    outbound.close();
    // A peer that does not read would hold the close frame behind its queue forever.
    Mono.delay(CLOSE_GRACE)
        .takeUntilOther(gone.asMono())
        .flatMap(tick -> session.close(status))
        .subscribe(done -> {}, error -> {});
  }

  private CloseStatus closeStatus() {
    CloseStatus status = closing.get();
    return status != null ? status : CloseStatus.NORMAL;
  }

  static CloseStatus status(int code, String reason) {
    byte[] bytes = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= 123) {
      return new CloseStatus(code, reason);
    }
    String cut = new String(bytes, 0, 120, StandardCharsets.UTF_8);
    // Cutting may split a character; drop the replacement character it leaves.
    while (!cut.isEmpty() && cut.getBytes(StandardCharsets.UTF_8).length > 120) {
      cut = cut.substring(0, cut.length() - 1);
    }
    return new CloseStatus(code, cut + "...");
  }

  private static void release(WebSocketMessage message) {
    DataBufferUtils.release(message.getPayload());
  }
}
