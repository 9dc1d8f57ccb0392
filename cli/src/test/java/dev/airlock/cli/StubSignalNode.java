package dev.airlock.cli;

import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A WebSocket server on a loopback port standing in for the signal node that holds an edge node,
 * with {@link StubPlatform} answering {@code POST /api/v1/sessions} with its URL: after a client's
 * {@code hello} it does what the test set, by default welcome and answer every byte with itself
 * upper-cased ({@code ping} → {@code PING}), or refuse with a close code.
 */
final class StubSignalNode implements AutoCloseable {

  /** What the node does once a client said hello. */
  enum Mode {
    /** Welcome, then send every byte back upper-cased. */
    SHOUT,
    /** Welcome, answer the first bytes upper-cased, then end the stream as a target that closed. */
    SHOUT_ONCE,
    /** Close with 4502, as when the node cannot reach the target. */
    UNREACHABLE
  }

  final List<SignalMessage> hellos = new CopyOnWriteArrayList<>();

  /** The clients' {@code session.close} messages. */
  final List<SignalMessage> sessionCloses = new CopyOnWriteArrayList<>();

  private final DisposableServer server;
  private volatile Mode mode = Mode.SHOUT;

  StubSignalNode() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(
                routes ->
                    routes.ws(
                        "/signal/v1/client",
                        (in, out) -> {
                          Sinks.One<SignalMessage> hello = Sinks.one();
                          Sinks.Many<byte[]> bytes = Sinks.many().unicast().onBackpressureBuffer();
                          Mono<Void> reading =
                              in.aggregateFrames()
                                  .receiveFrames()
                                  .doOnNext(frame -> read(frame, hello, bytes))
                                  .doFinally(signal -> bytes.tryEmitComplete())
                                  .then();
                          Mono<Void> answering =
                              hello
                                  .asMono()
                                  .flatMap(h -> answer(mode, out, bytes.asFlux()))
                                  .onErrorComplete();
                          return reading.and(answering);
                        },
                        WebsocketServerSpec.builder().protocols(SignalCodec.SUBPROTOCOL).build()))
            .bindNow(Duration.ofSeconds(10));
  }

  private void read(
      WebSocketFrame frame, Sinks.One<SignalMessage> hello, Sinks.Many<byte[]> bytes) {
    if (frame instanceof TextWebSocketFrame text) {
      SignalMessage message = SignalCodec.decode(text.text());
      if (message.getType() == MessageType.HELLO) {
        hellos.add(message);
        hello.tryEmitValue(message);
      } else if (message.getType() == MessageType.SESSION_CLOSE) {
        sessionCloses.add(message);
      }
    } else if (frame instanceof BinaryWebSocketFrame binary) {
      ByteBuf content = binary.content();
      byte[] copy = new byte[content.readableBytes()];
      content.getBytes(content.readerIndex(), copy);
      bytes.tryEmitNext(copy);
    }
  }

  private static Mono<Void> answer(Mode mode, WebsocketOutbound out, Flux<byte[]> fromClient) {
    if (mode == Mode.UNREACHABLE) {
      return out.sendClose(4502, "connection refused");
    }
    Mono<Void> welcome =
        out.sendObject(
                Mono.just(
                    new TextWebSocketFrame(
                        SignalCodec.encode(
                            new SignalMessage()
                                .type(MessageType.WELCOME)
                                .protocol(SignalCodec.VERSION)
                                .sessionId(UUID.randomUUID())))))
            .then();
    Flux<byte[]> answers = mode == Mode.SHOUT_ONCE ? fromClient.take(1) : fromClient;
    Mono<Void> shouting =
        out.sendObject(
                answers.map(
                    bytes ->
                        new BinaryWebSocketFrame(
                            Unpooled.wrappedBuffer(
                                new String(bytes, StandardCharsets.ISO_8859_1)
                                    .toUpperCase(java.util.Locale.ROOT)
                                    .getBytes(StandardCharsets.ISO_8859_1)))))
            .then();
    Mono<Void> done = welcome.then(shouting);
    return mode == Mode.SHOUT_ONCE
        ? done.then(out.sendClose(1000, "target closed the connection"))
        : done;
  }

  /** What the node does for the clients that say hello from now on. */
  void mode(Mode mode) {
    this.mode = mode;
  }

  String url() {
    return "ws://127.0.0.1:" + server.port() + "/signal/v1/client";
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }
}
