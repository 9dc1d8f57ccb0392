package dev.airlock.signal.tunnel;

import dev.airlock.peer.ControlFraming;
import dev.airlock.protocol.SignalCodec;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.IOException;
import java.net.URI;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.util.LinkedMultiValueMap;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.HandshakeInfo;
import org.springframework.web.reactive.socket.WebSocketMessage;
import org.springframework.web.reactive.socket.adapter.AbstractWebSocketSession;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.channel.AbortedException;
import reactor.netty.http.server.HttpServerRequest;
import reactor.util.context.Context;

/**
 * An agent's signalling on a stream of its tunnel connection ({@code POST /tunnel/v1/control},
 * framed as {@link ControlFraming} says), presented as a WebSocket session: the agent handler runs
 * it exactly as a socket on {@code /signal/v1/agent}, with the same limits and close codes.
 *
 * <p>{@link #body()} is the response body: what {@link #send} is given, then the close message once
 * {@link #close(CloseStatus)} is called. {@link #receive()} is the request body's messages; a close
 * message from the agent is reported by {@link #closeStatus()}.
 */
final class ControlStreamSession extends AbstractWebSocketSession<HttpServerRequest> {

  private static final AtomicLong IDS = new AtomicLong();

  private final Sinks.One<Flux<ByteBuf>> outgoing = Sinks.one();
  private final Sinks.One<CloseStatus> closing = Sinks.one();
  private final Sinks.One<CloseStatus> peerClose = Sinks.one();
  private final Channel connection;
  private volatile boolean sendEnded;
  private volatile boolean open = true;

  ControlStreamSession(HttpServerRequest request, NettyDataBufferFactory buffers) {
    this(request, buffers, "control-" + IDS.incrementAndGet());
  }

  private ControlStreamSession(
      HttpServerRequest request, NettyDataBufferFactory buffers, String id) {
    super(
        request,
        id,
        new HandshakeInfo(
            URI.create(request.uri()),
            new HttpHeaders(),
            new LinkedMultiValueMap<>(),
            Mono.empty(),
            SignalCodec.SUBPROTOCOL,
            request.remoteAddress(),
            Map.of(),
            "[" + id + "] "),
        buffers);
    this.connection = connectionOf(request);
  }

  /** The HTTP/2 connection {@code request}'s stream is on. */
  static Channel connectionOf(HttpServerRequest request) {
    Channel[] parent = {null};
    request.withConnection(stream -> parent[0] = stream.channel().parent());
    return parent[0];
  }

  /** The HTTP/2 connection this stream is on. */
  Channel connection() {
    return connection;
  }

  /** The response body: the messages sent, then the close message. */
  Flux<ByteBuf> body() {
    return outgoing
        .asMono()
        .flatMapMany(messages -> messages)
        .concatWith(
            closing
                .asMono()
                .map(
                    status ->
                        ControlFraming.encode(
                            new CloseWebSocketFrame(status.getCode(), status.getReason()))));
  }

  @Override
  public Flux<WebSocketMessage> receive() {
    return ControlFraming.decode(getDelegate().receive(), ControlFraming.MAX_MESSAGE)
        // The connection went (a cut, a killed agent): a lost socket, not an internal error.
        .onErrorMap(
            AbortedException.class,
            aborted -> new IOException("connection lost: " + aborted.getMessage(), aborted))
        .<WebSocketMessage>handle(
            (frame, sink) -> {
              if (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame) {
                // The message takes the frame's buffer over (released once delivered, below).
                sink.next(
                    new WebSocketMessage(
                        frame instanceof TextWebSocketFrame
                            ? WebSocketMessage.Type.TEXT
                            : WebSocketMessage.Type.BINARY,
                        bufferFactory().wrap(frame.content())));
                return;
              }
              if (frame instanceof CloseWebSocketFrame close) {
                int code = close.statusCode();
                // No code, or one no close may carry: as WebSocket reports a close without one.
                peerClose.tryEmitValue(
                    code < 1000 || code > 4999
                        ? CloseStatus.NO_STATUS_CODE
                        : new CloseStatus(code, close.reasonText()));
              }
              frame.release();
            })
        .transform(
            Operators.<WebSocketMessage, WebSocketMessage>lift(
                (scannable, receiver) -> new ReleaseAfterDelivery(receiver)))
        .doFinally(signal -> peerClose.tryEmitEmpty());
  }

  /**
   * Releases each message once its receiver's {@code onNext} returned, as a WebSocket session does:
   * the receiver retains what it keeps.
   */
  private record ReleaseAfterDelivery(CoreSubscriber<? super WebSocketMessage> receiver)
      implements CoreSubscriber<WebSocketMessage> {

    @Override
    public Context currentContext() {
      return receiver.currentContext();
    }

    @Override
    public void onSubscribe(Subscription subscription) {
      receiver.onSubscribe(subscription);
    }

    @Override
    public void onNext(WebSocketMessage message) {
      try {
        receiver.onNext(message);
      } finally {
        DataBufferUtils.release(message.getPayload());
      }
    }

    @Override
    public void onError(Throwable error) {
      receiver.onError(error);
    }

    @Override
    public void onComplete() {
      receiver.onComplete();
    }
  }

  @Override
  public NettyDataBufferFactory bufferFactory() {
    return (NettyDataBufferFactory) super.bufferFactory();
  }

  @Override
  public Mono<Void> send(Publisher<WebSocketMessage> messages) {
    Sinks.Empty<Void> done = Sinks.empty();
    Flux<ByteBuf> encoded =
        Flux.from(messages)
            .map(ControlStreamSession::encode)
            .doFinally(
                signal -> {
                  sendEnded = true;
                  done.tryEmitEmpty();
                });
    if (outgoing.tryEmitValue(encoded).isFailure()) {
      Flux.from(messages).subscribe(message -> DataBufferUtils.release(message.getPayload()));
      return Mono.error(new IllegalStateException("a control stream is sent on once"));
    }
    return done.asMono();
  }

  private static ByteBuf encode(WebSocketMessage message) {
    ByteBuf content = NettyDataBufferFactory.toByteBuf(message.getPayload());
    WebSocketFrame frame =
        message.getType() == WebSocketMessage.Type.TEXT
            ? new TextWebSocketFrame(content)
            : new BinaryWebSocketFrame(content);
    return ControlFraming.encode(frame);
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  /**
   * Ends the response body with the close message. Called before what was sent has gone (the agent
   * does not read), it resets the stream instead.
   */
  @Override
  public Mono<Void> close(CloseStatus status) {
    open = false;
    if (outgoing.tryEmitValue(Flux.empty()).isSuccess()) {
      sendEnded = true;
    }
    closing.tryEmitValue(status);
    if (!sendEnded) {
      getDelegate().withConnection(Connection::dispose);
    }
    return Mono.empty();
  }

  @Override
  public Mono<CloseStatus> closeStatus() {
    return peerClose.asMono();
  }
}
