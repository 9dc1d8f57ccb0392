package dev.airlock.signal;

import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.SignalMessage;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;

/** A test's WebSocket peer (agent or client) on reactor-netty; reads block the test thread only. */
final class TestSocket {

  private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
  private final Sinks.Many<WebSocketFrame> out = Sinks.many().unicast().onBackpressureBuffer();
  final CompletableFuture<WebSocketCloseStatus> closed = new CompletableFuture<>();

  static TestSocket open(String url) {
    TestSocket socket = new TestSocket();
    HttpClient.create()
        .websocket(
            WebsocketClientSpec.builder()
                .protocols(SignalCodec.SUBPROTOCOL)
                .maxFramePayloadLength(1 << 20)
                .build())
        .uri(url)
        .handle(
            (in, outbound) -> {
              in.receiveCloseStatus().subscribe(socket.closed::complete);
              Mono<Void> reading =
                  in.aggregateFrames(1 << 20)
                      .receiveFrames()
                      .doOnNext(
                          frame -> {
                            if (frame instanceof TextWebSocketFrame text) {
                              socket.received.add(SignalCodec.decode(text.text()));
                            } else if (frame instanceof BinaryWebSocketFrame binary) {
                              socket.received.add(ByteBufUtil.getBytes(binary.content()));
                            }
                          })
                      .then();
              return outbound.sendObject(socket.out.asFlux()).then().and(reading);
            })
        .subscribe(done -> {}, error -> socket.closed.completeExceptionally(error));
    return socket;
  }

  TestSocket send(SignalMessage message) {
    out.tryEmitNext(new TextWebSocketFrame(SignalCodec.encode(message)));
    return this;
  }

  TestSocket sendText(String text) {
    out.tryEmitNext(new TextWebSocketFrame(text));
    return this;
  }

  TestSocket sendBinary(byte[] bytes) {
    out.tryEmitNext(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes)));
    return this;
  }

  /** Starts the closing handshake with 1000 (as an agent that goes away). */
  TestSocket close() {
    out.tryEmitNext(new CloseWebSocketFrame(1000, "bye"));
    return this;
  }

  SignalMessage message() {
    Object next = next();
    if (!(next instanceof SignalMessage message)) {
      throw new AssertionError("expected a text message, got " + next);
    }
    return message;
  }

  byte[] binary() {
    Object next = next();
    if (!(next instanceof byte[] bytes)) {
      throw new AssertionError("expected a binary frame, got " + next);
    }
    return bytes;
  }

  private Object next() {
    try {
      Object next = received.poll(10, TimeUnit.SECONDS);
      if (next == null) {
        throw new AssertionError("nothing received within 10 s");
      }
      return next;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  WebSocketCloseStatus awaitClose(Duration max) {
    try {
      return closed.get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("not closed within " + max, e);
    }
  }
}
