package dev.airlock.sdk.tunnel;

import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.WebsocketServerSpec;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A real HTTP and WebSocket server on a loopback port standing in for both the platform ({@code
 * POST /api/v1/sessions}) and the signal node holding an edge node: after the client's {@code
 * hello}, the test's script decides what the node does (welcome and echo, refuse with a close code,
 * flood, say nothing). Everything the client sends is recorded.
 */
final class FakeSignalNode implements AutoCloseable {

  static final String CONNECT_TOKEN = "eyJ.fake.token";
  static final UUID SESSION = UUID.fromString("5e55e55e-0000-4000-8000-000000000001");

  /** What the node does once a client said hello. */
  interface Script {
    Mono<Void> run(Client client);
  }

  /** One client socket, from the node's side. */
  static final class Client {

    final WebsocketOutbound out;
    final Flux<byte[]> fromClient;

    Client(WebsocketOutbound out, Flux<byte[]> fromClient) {
      this.out = out;
      this.fromClient = fromClient;
    }

    Mono<Void> welcome() {
      return text(
          new SignalMessage()
              .type(MessageType.WELCOME)
              .protocol(SignalCodec.VERSION)
              .nodeId("signal-1")
              .sessionId(SESSION));
    }

    Mono<Void> text(SignalMessage message) {
      return out.sendObject(Mono.just(new TextWebSocketFrame(SignalCodec.encode(message)))).then();
    }

    Mono<Void> send(byte[] bytes) {
      return out.sendObject(Mono.just(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes))))
          .then();
    }

    Mono<Void> close(int code, String reason) {
      return out.sendClose(code, reason);
    }
  }

  final List<String> sessionRequests = new CopyOnWriteArrayList<>();
  final List<SignalMessage> messages = new CopyOnWriteArrayList<>();
  final List<Integer> frameSizes = new CopyOnWriteArrayList<>();
  final List<String> subprotocols = new CopyOnWriteArrayList<>();
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private final DisposableServer server;
  private volatile Script script = client -> client.welcome().then(Mono.never());
  private volatile Function<String, String> sessionProblem = body -> null;
  private volatile String signalUrl;

  FakeSignalNode() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(
                routes ->
                    routes
                        .post(
                            "/api/v1/sessions",
                            (request, response) ->
                                request
                                    .receive()
                                    .aggregate()
                                    .asString(StandardCharsets.UTF_8)
                                    .flatMap(
                                        body -> {
                                          sessionRequests.add(body);
                                          String problem = sessionProblem.apply(body);
                                          if (problem != null) {
                                            return response
                                                .status(HttpResponseStatus.NOT_FOUND)
                                                .header("Content-Type", "application/problem+json")
                                                .sendString(Mono.just(problem))
                                                .then();
                                          }
                                          return response
                                              .status(HttpResponseStatus.CREATED)
                                              .header("Content-Type", "application/json")
                                              .sendString(Mono.just(sessionCreated()))
                                              .then();
                                        }))
                        .ws(
                            "/signal/v1/client",
                            (in, out) -> {
                              in.headers()
                                  .getAll("Sec-WebSocket-Protocol")
                                  .forEach(subprotocols::add);
                              Sinks.One<SignalMessage> hello = Sinks.one();
                              Sinks.Many<byte[]> bytes =
                                  Sinks.many().unicast().onBackpressureBuffer();
                              Mono<Void> reading =
                                  in.aggregateFrames()
                                      .receiveFrames()
                                      .doOnNext(frame -> record(frame, hello, bytes))
                                      .doFinally(signal -> bytes.tryEmitComplete())
                                      .then();
                              Mono<Void> scripted =
                                  hello
                                      .asMono()
                                      .flatMap(h -> script.run(new Client(out, bytes.asFlux())))
                                      .onErrorComplete();
                              return reading.and(scripted);
                            },
                            WebsocketServerSpec.builder()
                                .protocols(SignalCodec.SUBPROTOCOL)
                                .maxFramePayloadLength(1 << 20)
                                .build()))
            .bindNow(Duration.ofSeconds(10));
  }

  private void record(
      WebSocketFrame frame, Sinks.One<SignalMessage> hello, Sinks.Many<byte[]> bytes) {
    if (frame instanceof TextWebSocketFrame text) {
      SignalMessage message = SignalCodec.decode(text.text());
      messages.add(message);
      if (message.getType() == MessageType.HELLO) {
        hello.tryEmitValue(message);
      }
    } else if (frame instanceof BinaryWebSocketFrame binary) {
      ByteBuf content = binary.content();
      byte[] copy = new byte[content.readableBytes()];
      content.getBytes(content.readerIndex(), copy);
      frameSizes.add(copy.length);
      synchronized (received) {
        received.writeBytes(copy);
      }
      bytes.tryEmitNext(copy);
    }
  }

  private String sessionCreated() {
    return """
        {"id":"%s","userId":"%s","username":"alice","agentId":"%s","mode":"tunnel",
         "transport":"relay","state":"pending","createdAt":"2030-01-01T00:00:00Z",
         "tunnelTarget":"ssh","connectToken":"%s","connectTokenExpiresAt":"2030-01-01T00:01:00Z",
         "signalUrl":"%s","iceServers":[],"agentFingerprint":"sha-256 AB:CD"}"""
        .formatted(SESSION, UUID.randomUUID(), UUID.randomUUID(), CONNECT_TOKEN, signalUrl());
  }

  /** What the node does after each client's hello from now on. */
  FakeSignalNode script(Script script) {
    this.script = script;
    return this;
  }

  /** Answers the session request with this problem document (404) when it returns one. */
  FakeSignalNode sessionProblem(Function<String, String> problem) {
    this.sessionProblem = problem;
    return this;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  String signalUrl() {
    String url = signalUrl;
    return url != null ? url : "ws://127.0.0.1:" + server.port() + "/signal/v1/client";
  }

  /** Names this signal URL in the sessions it creates instead of its own. */
  FakeSignalNode signalUrl(String url) {
    this.signalUrl = url;
    return this;
  }

  /** Every byte the clients sent in binary frames, in order. */
  byte[] received() {
    synchronized (received) {
      return received.toByteArray();
    }
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }
}
