package dev.airlock.peer;

import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.RelayFrame;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.SignalMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A client's or agent's WebSocket to a signal node (subprotocol {@value SignalCodec#SUBPROTOCOL}):
 * text frames are {@link SignalMessage}s, binary frames {@link RelayFrame}s. An edge node's agent
 * opens the same socket as a stream of its tunnel connection instead ({@link #overStream}), the
 * frames then framed by {@link ControlFraming}; everything below holds for both.
 *
 * <p>{@link #messages()} and {@link #relayFrames()} each take one subscriber and keep what arrives
 * before it subscribes. Sending never blocks; relay frames wait for room (see {@link
 * #send(RelayFrame)}). {@link #closed()} tells how the socket ended: the code and reason the node
 * closed it with, or {@value #ABNORMAL} when the connection was lost without a close frame.
 * Thread-safe.
 */
public final class SignalSocket {

  /** The close code reported when the connection ended without a close frame. */
  public static final int ABNORMAL = 1006;

  /** How a socket ended. */
  public record Closed(int code, String reason) {
    @Override
    public String toString() {
      return code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")");
    }
  }

  private static final Logger log = LoggerFactory.getLogger(SignalSocket.class);

  /** Relay frames queued beyond this make senders wait until the queue drops below {@link #LOW}. */
  private static final long HIGH = 1 << 20;

  private static final long LOW = 256 * 1024;

  private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

  private final Sinks.Many<SignalMessage> messages = Sinks.many().unicast().onBackpressureBuffer();
  private final Sinks.Many<RelayFrame> relayFrames = Sinks.many().unicast().onBackpressureBuffer();
  private final Sinks.Many<WebSocketFrame> outbound = Sinks.many().unicast().onBackpressureBuffer();
  private final Sinks.One<Closed> closed = Sinks.one();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicReference<Closed> closeRequested = new AtomicReference<>();
  private final AtomicReference<Closed> closeReceived = new AtomicReference<>();
  private final AtomicBoolean open = new AtomicBoolean(true);
  private volatile Connection connection;

  private SignalSocket() {}

  /**
   * Opens a WebSocket to {@code uri} ({@code ws://} or {@code wss://}, the full endpoint path).
   * Completes with the socket once the handshake is done; fails when the node cannot be reached or
   * refuses the upgrade. The caller sets the timeout.
   */
  public static Mono<SignalSocket> connect(URI uri) {
    return connect(HttpClient.create(), uri);
  }

  /** As {@link #connect(URI)}, with a configured client (TLS trust, proxy, connect timeout). */
  public static Mono<SignalSocket> connect(HttpClient client, URI uri) {
    WebsocketClientSpec spec =
        WebsocketClientSpec.builder()
            .protocols(SignalCodec.SUBPROTOCOL)
            .maxFramePayloadLength(ControlFraming.MAX_MESSAGE)
            .build();
    return open(
        (socket, opened) ->
            client
                .websocket(spec)
                .uri(uri)
                .handle(
                    (in, out) -> {
                      in.withConnection(connection -> socket.connection = connection);
                      opened.run();
                      return socket.run(in, out);
                    }));
  }

  /**
   * Opens the socket as a stream of an HTTP/2 connection instead of a WebSocket: {@code POST path}
   * on {@code client}, the messages framed as {@link ControlFraming} says. An edge node's agent
   * signals this way on its tunnel connection, so that it keeps one connection to its node.
   * Completes once the node answered 200; fails when it answers anything else or cannot be reached.
   * The caller sets the timeout.
   */
  public static Mono<SignalSocket> overStream(HttpClient client, String path) {
    return open(
        (socket, opened) ->
            client
                // The body is this socket's queue, which can be sent once: never resend it.
                .disableRetry(true)
                .post()
                .uri(path)
                .send((request, out) -> out.send(socket.streamBody()))
                .responseConnection(
                    (response, connection) -> {
                      if (response.status().code() != 200) {
                        return Mono.error(
                            new IllegalStateException(
                                "the tunnel endpoint answered "
                                    + response.status()
                                    + " to the signalling stream"));
                      }
                      socket.connection = connection;
                      opened.run();
                      return ControlFraming.decode(
                              connection.inbound().receive(), ControlFraming.MAX_MESSAGE)
                          .doOnNext(socket::receivedOnStream)
                          .then();
                    }));
  }

  /**
   * Runs a new socket on what {@code transport} returns for it, which calls its second argument
   * once the socket is open: the result completes with the socket then, or fails if the transport
   * does first. The socket ends when the transport does.
   */
  private static Mono<SignalSocket> open(
      BiFunction<SignalSocket, Runnable, Publisher<?>> transport) {
    return Mono.create(
        sink -> {
          SignalSocket socket = new SignalSocket();
          Flux.from(transport.apply(socket, () -> sink.success(socket)))
              .then()
              .subscribe(
                  done -> {},
                  error -> {
                    sink.error(error);
                    socket.ended(error);
                  },
                  () -> socket.ended(null));
          sink.onCancel(socket::abort);
        });
  }

  /** What this socket sends on a stream: its queue, then the close message if it asked for one. */
  private Flux<ByteBuf> streamBody() {
    return outbound
        .asFlux()
        .doOnNext(this::dequeued)
        .map(ControlFraming::encode)
        .concatWith(
            Mono.fromSupplier(closeRequested::get)
                .map(
                    request ->
                        ControlFraming.encode(
                            new CloseWebSocketFrame(request.code(), request.reason()))));
  }

  private void receivedOnStream(WebSocketFrame frame) {
    try {
      if (frame instanceof CloseWebSocketFrame close) {
        closeReceived.set(new Closed(close.statusCode(), close.reasonText()));
        // The node has said its last: end this side too, which ends the stream.
        synchronized (this) {
          open.set(false);
          outbound.tryEmitComplete();
        }
      } else {
        received(frame);
      }
    } finally {
      frame.release();
    }
  }

  private Mono<Void> run(WebsocketInbound in, WebsocketOutbound out) {
    in.receiveCloseStatus()
        .subscribe(status -> closeReceived.set(new Closed(status.code(), status.reasonText())));
    Mono<Void> sending =
        out.sendObject(outbound.asFlux().doOnNext(this::dequeued))
            .then()
            .then(
                Mono.defer(
                    () -> {
                      Closed request = closeRequested.get();
                      return request == null
                          ? Mono.<Void>empty()
                          : out.sendClose(request.code(), request.reason());
                    }));
    Mono<Void> receiving =
        in.aggregateFrames(RelayFrame.MAX_FRAME).receiveFrames().doOnNext(this::received).then();
    // The socket lives as long as the node's side does: the inbound ends when the connection does.
    Disposable sender =
        sending.subscribe(
            done -> {}, error -> log.debug("Signal socket send failed: {}", error.toString()));
    return receiving.doFinally(signal -> sender.dispose());
  }

  private void received(WebSocketFrame frame) {
    try {
      if (frame instanceof TextWebSocketFrame text) {
        messages.emitNext(SignalCodec.decode(text.text()), Sinks.EmitFailureHandler.FAIL_FAST);
      } else if (frame instanceof BinaryWebSocketFrame binary) {
        // The frame's buffer is released after this call: keep a copy.
        ByteBuf content = binary.content();
        byte[] bytes = new byte[content.readableBytes()];
        content.getBytes(content.readerIndex(), bytes);
        relayFrames.emitNext(
            RelayFrame.decode(ByteBuffer.wrap(bytes)), Sinks.EmitFailureHandler.FAIL_FAST);
      }
    } catch (ProtocolException e) {
      log.warn("Ignoring a malformed frame from the signal node: {}", e.getMessage());
    }
  }

  /** The signal messages the node sends, in order; completes when the socket ends. */
  public Flux<SignalMessage> messages() {
    return messages.asFlux();
  }

  /** The relay frames the node forwards, in order; completes when the socket ends. */
  public Flux<RelayFrame> relayFrames() {
    return relayFrames.asFlux();
  }

  /** Queues {@code message}; silently dropped once the socket is closing. */
  public void send(SignalMessage message) {
    emit(new TextWebSocketFrame(SignalCodec.encode(message)));
  }

  /**
   * Queues {@code frame} (in order with every other send) and completes when the queue has room:
   * below 256 KiB again once it passed 1 MiB. Fails when the socket is closed.
   */
  public Mono<Void> send(RelayFrame frame) {
    return Mono.defer(
        () -> {
          if (!open.get()) {
            return Mono.error(new IllegalStateException("signal socket closed"));
          }
          ByteBuffer bytes = frame.encode();
          queuedBytes.addAndGet(bytes.remaining());
          emit(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
          if (queuedBytes.get() < HIGH) {
            return Mono.empty();
          }
          return Flux.interval(Duration.ofMillis(2))
              .filter(tick -> queuedBytes.get() < LOW || !open.get())
              .next()
              .then(
                  Mono.defer(
                      () ->
                          open.get()
                              ? Mono.<Void>empty()
                              : Mono.error(new IllegalStateException("signal socket closed"))));
        });
  }

  private void dequeued(WebSocketFrame frame) {
    if (frame instanceof BinaryWebSocketFrame binary) {
      queuedBytes.addAndGet(-binary.content().readableBytes());
    }
  }

  private synchronized void emit(WebSocketFrame frame) {
    if (!open.get() || outbound.tryEmitNext(frame).isFailure()) {
      frame.release();
    }
  }

  /**
   * Sends a close frame after what is queued and completes when the socket is closed (or after a
   * few seconds, when the node does not answer and the connection is dropped). Idempotent.
   */
  public Mono<Closed> close(int code, String reason) {
    synchronized (this) {
      if (open.compareAndSet(true, false)) {
        closeRequested.set(new Closed(code, reason));
        outbound.tryEmitComplete();
      }
    }
    return closed()
        .timeout(CLOSE_GRACE)
        .onErrorResume(
            timeout -> {
              abort();
              return closed();
            });
  }

  /** Whether the socket is open and nobody asked to close it. */
  public boolean isOpen() {
    return open.get();
  }

  /** Completes once, when the socket has ended, with the code and reason. */
  public Mono<Closed> closed() {
    return closed.asMono();
  }

  private void abort() {
    open.set(false);
    Connection current = connection;
    if (current != null) {
      current.dispose();
    }
  }

  private synchronized void ended(Throwable error) {
    open.set(false);
    outbound.tryEmitComplete();
    Closed result;
    if (closeReceived.get() != null) {
      result = closeReceived.get();
    } else if (closeRequested.get() != null) {
      result = closeRequested.get();
    } else {
      result =
          new Closed(
              ABNORMAL, error == null ? "connection lost" : String.valueOf(error.getMessage()));
    }
    messages.tryEmitComplete();
    relayFrames.tryEmitComplete();
    closed.tryEmitValue(result);
  }
}
