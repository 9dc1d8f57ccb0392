package dev.airlock.sdk.tunnel;

import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.tunnel.TunnelStream.Ending;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.publisher.Sinks;
import reactor.netty.Connection;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.http.websocket.WebsocketInbound;
import reactor.netty.http.websocket.WebsocketOutbound;

/**
 * A client socket of a tunnel session on a signal node: text frames are {@link SignalMessage}s
 * (handed to a callback), binary frames are the stream's raw bytes, both ways.
 *
 * <p>Why not {@code dev.airlock.peer.SignalSocket}: it reads every binary frame as a relay frame
 * (with a header) and buffers whatever arrives without limit. A tunnel's bytes must instead be read
 * only as fast as the reader takes them, so that the node's flow control (and through it the edge
 * node's HTTP/2 window) slows the target down rather than this process's memory filling up. Here
 * the WebSocket is read on demand: at most {@link #READ_AHEAD} frames wait for a reader.
 */
final class TunnelSocket {

  /** The largest binary frame sent, as the signal protocol allows. */
  static final int MAX_CHUNK = 64 * 1024;

  /**
   * Frames read before (or beyond) the reader's demand: what the target says first, e.g. SSH's
   * banner.
   */
  static final int READ_AHEAD = 8;

  /** The largest frame accepted: lenient, as it is the node's to keep frames small. */
  private static final int MAX_INBOUND_FRAME = 1 << 20;

  private static final Duration CLOSE_GRACE = Duration.ofSeconds(3);

  private static final Logger log = LoggerFactory.getLogger(TunnelSocket.class);

  private final Consumer<SignalMessage> onMessage;
  private final Function<Ending, RuntimeException> failure;
  private final Sinks.Many<ByteBuffer> bytes = Sinks.many().unicast().onBackpressureBuffer();
  private final Sinks.Many<Publisher<WebSocketFrame>> outbound =
      Sinks.many().unicast().onBackpressureBuffer();
  private final Sinks.Empty<Void> closing = Sinks.empty();
  private final Sinks.One<Ending> closed = Sinks.one();
  private final AtomicReference<Ending> closeRequested = new AtomicReference<>();
  private final AtomicReference<WebSocketCloseStatus> closeReceived = new AtomicReference<>();
  private final AtomicReference<Throwable> readFailure = new AtomicReference<>();
  private final Set<Sinks.Empty<Void>> sending = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean open = new AtomicBoolean(true);
  private final Reader reader = new Reader();
  private volatile Connection connection;

  private TunnelSocket(
      Consumer<SignalMessage> onMessage, Function<Ending, RuntimeException> failure) {
    this.onMessage = onMessage;
    this.failure = failure;
  }

  /**
   * Opens the WebSocket at {@code uri} (subprotocol {@value SignalCodec#SUBPROTOCOL}). Completes
   * once the handshake is done; the caller sets the timeout.
   *
   * @param onMessage receives every text message, on an event loop: it must not block
   * @param failure the error that ends {@link #bytes()} when the socket ends other than normally
   */
  static Mono<TunnelSocket> connect(
      HttpClient client,
      URI uri,
      Consumer<SignalMessage> onMessage,
      Function<Ending, RuntimeException> failure) {
    WebsocketClientSpec spec =
        WebsocketClientSpec.builder()
            .protocols(SignalCodec.SUBPROTOCOL)
            .maxFramePayloadLength(MAX_INBOUND_FRAME)
            .build();
    return Mono.create(
        sink -> {
          TunnelSocket socket = new TunnelSocket(onMessage, failure);
          client
              .websocket(spec)
              .uri(uri)
              .handle(
                  (in, out) -> {
                    in.withConnection(connection -> socket.connection = connection);
                    Mono<Void> running = socket.run(in, out);
                    sink.success(socket);
                    return running;
                  })
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

  private Mono<Void> run(WebsocketInbound in, WebsocketOutbound out) {
    in.receiveCloseStatus().subscribe(closeReceived::set);
    Mono<Void> sending =
        out.sendObject(Flux.concat(outbound.asFlux()))
            .then()
            .then(
                Mono.defer(
                    () -> {
                      Ending request = closeRequested.get();
                      return request == null
                          ? Mono.<Void>empty()
                          : out.sendClose(request.code(), request.reason());
                    }));
    var sender =
        sending.subscribe(
            done -> {}, error -> log.debug("Tunnel socket send failed: {}", error.toString()));
    Sinks.Empty<Void> received = Sinks.empty();
    in.aggregateFrames(MAX_INBOUND_FRAME)
        .receiveFrames()
        .doFinally(signal -> received.tryEmitEmpty())
        .subscribe(reader);
    // The connection lives as long as the node's side does: the inbound ends when it does.
    return received.asMono().doFinally(signal -> sender.dispose());
  }

  /**
   * The stream's bytes, in order; one subscriber. Completes when the socket ends normally (1000, or
   * a close this side asked for) after every byte received before; fails with the {@code failure}
   * of its ending otherwise. Cancelling it does not close the socket.
   */
  Flux<ByteBuffer> bytes() {
    return bytes.asFlux().doOnRequest(reader::demand);
  }

  /** Queues a text message after what is queued; dropped once the socket is closing. */
  void send(SignalMessage message) {
    emit(Mono.just(new TextWebSocketFrame(SignalCodec.encode(message))));
  }

  /**
   * Sends {@code data} after what is queued, in binary frames of at most {@link #MAX_CHUNK} bytes
   * (copies made as each buffer is emitted: the publisher may reuse its buffers). Completes when
   * every frame is handed to the connection; fails when the socket closes first.
   */
  Mono<Void> send(Publisher<? extends ByteBuffer> data) {
    return Mono.defer(
        () -> {
          if (!open.get()) {
            return Mono.error(new IllegalStateException("tunnel closed"));
          }
          Sinks.Empty<Void> done = Sinks.empty();
          Sinks.Empty<Void> cancelled = Sinks.empty();
          sending.add(done);
          AtomicBoolean finished = new AtomicBoolean();
          Flux<WebSocketFrame> frames =
              Flux.<ByteBuffer>from(data)
                  // Copied as each buffer is emitted, so that the publisher may reuse it; one at a
                  // time, so that it is asked for more only as frames leave.
                  .map(TunnelSocket::chunks)
                  .concatMapIterable(Function.identity(), 1)
                  .<WebSocketFrame>map(BinaryWebSocketFrame::new)
                  .takeUntilOther(Mono.firstWithSignal(closing.asMono(), cancelled.asMono()))
                  .doOnComplete(
                      () -> {
                        finished.set(true);
                        if (open.get()) {
                          done.tryEmitEmpty();
                        } else {
                          done.tryEmitError(new IllegalStateException("tunnel closed"));
                        }
                      })
                  // The publisher's failure ends this send only, not the socket's other sends.
                  .onErrorResume(
                      error -> {
                        done.tryEmitError(error);
                        return Mono.empty();
                      })
                  .doOnCancel(() -> done.tryEmitError(new IllegalStateException("tunnel closed")));
          if (!emit(frames)) {
            sending.remove(done);
            return Mono.error(new IllegalStateException("tunnel closed"));
          }
          return done.asMono()
              .doFinally(signal -> sending.remove(done))
              .doOnCancel(
                  () -> {
                    if (!finished.get()) {
                      cancelled.tryEmitEmpty();
                    }
                  });
        });
  }

  /** The data's bytes as heap buffers of at most {@link #MAX_CHUNK} bytes; none when empty. */
  static List<ByteBuf> chunks(ByteBuffer data) {
    ByteBuffer rest = data.duplicate();
    List<ByteBuf> chunks = new ArrayList<>(rest.remaining() / MAX_CHUNK + 1);
    while (rest.hasRemaining()) {
      byte[] chunk = new byte[Math.min(MAX_CHUNK, rest.remaining())];
      rest.get(chunk);
      chunks.add(Unpooled.wrappedBuffer(chunk));
    }
    return chunks;
  }

  private synchronized boolean emit(Publisher<WebSocketFrame> frames) {
    return open.get() && outbound.tryEmitNext(frames).isSuccess();
  }

  /**
   * Sends a close frame after what is queued (data still being sent is cut) and completes when the
   * socket has ended, or after a few seconds when the node does not answer and the connection is
   * dropped. Idempotent.
   */
  Mono<Ending> close(int code, String reason) {
    synchronized (this) {
      if (open.compareAndSet(true, false)) {
        closeRequested.set(new Ending(code, reason));
        closing.tryEmitEmpty();
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
  boolean isOpen() {
    return open.get();
  }

  /** Completes once, when the socket has ended, with how it ended. */
  Mono<Ending> closed() {
    return closed.asMono();
  }

  private void abort() {
    open.set(false);
    closing.tryEmitEmpty();
    Connection current = connection;
    if (current != null) {
      current.dispose();
    }
  }

  private synchronized void ended(Throwable error) {
    open.set(false);
    closing.tryEmitEmpty();
    outbound.tryEmitComplete();
    // Data queued behind a connection that is gone is never sent.
    sending.forEach(send -> send.tryEmitError(new IllegalStateException("tunnel closed")));
    Ending ending = ending(error != null ? error : readFailure.get());
    // Only now is it known how the socket ended (the node's close frame, or none).
    if (ending.normal()) {
      bytes.tryEmitComplete();
    } else {
      bytes.tryEmitError(failure.apply(ending));
    }
    closed.tryEmitValue(ending);
  }

  /** How the socket ended: the node's close frame, else the close asked for here, else lost. */
  private Ending ending(Throwable error) {
    WebSocketCloseStatus status = closeReceived.get();
    if (status != null) {
      return new Ending(status.code(), status.reasonText());
    }
    Ending requested = closeRequested.get();
    if (requested != null) {
      return requested;
    }
    return new Ending(
        Ending.ABNORMAL, error == null ? "connection lost" : String.valueOf(error.getMessage()));
  }

  /**
   * Reads frames as the bytes' subscriber asks for them, plus {@link #READ_AHEAD}: text frames are
   * handled at once and replaced by another read, binary frames are passed on as copies. The bytes
   * end in {@link #ended(Throwable)}, once it is known how the socket ended.
   */
  private final class Reader extends BaseSubscriber<WebSocketFrame> {

    /** Demand from a subscriber of the bytes that came before the frames were subscribed to. */
    private long early;

    void demand(long n) {
      synchronized (this) {
        if (upstream() == null) {
          early = Operators.addCap(early, n);
          return;
        }
      }
      request(n);
    }

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
      long initial;
      synchronized (this) {
        initial = Operators.addCap(READ_AHEAD, early);
        early = 0;
      }
      subscription.request(initial);
    }

    @Override
    protected void hookOnNext(WebSocketFrame frame) {
      if (frame instanceof BinaryWebSocketFrame binary) {
        // The frame's buffer is released after this call: keep a copy.
        ByteBuf content = binary.content();
        byte[] copy = new byte[content.readableBytes()];
        content.getBytes(content.readerIndex(), copy);
        bytes.tryEmitNext(ByteBuffer.wrap(copy));
        return;
      }
      if (frame instanceof TextWebSocketFrame text) {
        try {
          onMessage.accept(SignalCodec.decode(text.text()));
        } catch (ProtocolException e) {
          log.warn("Ignoring a malformed message from the signal node: {}", e.getMessage());
        }
      }
      request(1);
    }

    @Override
    protected void hookOnError(Throwable error) {
      readFailure.set(error);
    }
  }
}
