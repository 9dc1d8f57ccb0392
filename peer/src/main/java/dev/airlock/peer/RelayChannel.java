package dev.airlock.peer;

import dev.airlock.protocol.RelayFrame;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A {@link Channel} through the signal node's relay: each message travels as {@link RelayFrame}s of
 * this session and label, at most {@link RelayFrame#MAX_PAYLOAD} bytes each. The relay has no
 * message to open a channel, so opening one sends an empty frame, which the other end takes as
 * "open" and never delivers as a message.
 */
final class RelayChannel implements Channel {

  private final SignalSocket socket;
  private final UUID sessionId;
  private final String label;
  private final AtomicLong bytesIn;
  private final AtomicLong bytesOut;
  private final Sinks.Many<ByteBuffer> inbound = Sinks.many().unicast().onBackpressureBuffer();
  private volatile boolean closed;

  RelayChannel(
      SignalSocket socket, UUID sessionId, String label, AtomicLong bytesIn, AtomicLong bytesOut) {
    // Validates the label (1..64 bytes of UTF-8) before anything is sent.
    new RelayFrame(sessionId, label, ByteBuffer.allocate(0));
    this.socket = socket;
    this.sessionId = sessionId;
    this.label = label;
    this.bytesIn = bytesIn;
    this.bytesOut = bytesOut;
  }

  /** Tells the other end that this channel exists. */
  Mono<Void> announce() {
    return socket.send(new RelayFrame(sessionId, label, ByteBuffer.allocate(0)));
  }

  /** Delivers a frame's payload that the node forwarded for this channel. */
  void deliver(ByteBuffer payload) {
    if (closed || payload.remaining() == 0) {
      return;
    }
    byte[] copy = new byte[payload.remaining()];
    payload.duplicate().get(copy);
    bytesIn.addAndGet(copy.length);
    inbound.tryEmitNext(ByteBuffer.wrap(copy));
  }

  @Override
  public String label() {
    return label;
  }

  @Override
  public Mono<Void> send(ByteBuffer message) {
    return Mono.defer(
        () -> {
          if (closed) {
            return Mono.error(new IllegalStateException("channel " + label + " closed"));
          }
          return Flux.fromIterable(chunks(message))
              .concatMap(
                  chunk ->
                      socket
                          .send(new RelayFrame(sessionId, label, ByteBuffer.wrap(chunk)))
                          .doOnSuccess(done -> bytesOut.addAndGet(chunk.length)))
              .then();
        });
  }

  @Override
  public Flux<ByteBuffer> messages() {
    return inbound.asFlux();
  }

  @Override
  public Mono<Void> close() {
    return Mono.fromRunnable(this::ended);
  }

  void ended() {
    closed = true;
    inbound.tryEmitComplete();
  }

  /** The message's bytes in pieces of at most {@link Channel#MAX_MESSAGE}, each its own array. */
  static List<byte[]> chunks(ByteBuffer message) {
    ByteBuffer rest = message.duplicate();
    List<byte[]> chunks = new ArrayList<>();
    while (rest.hasRemaining()) {
      byte[] chunk = new byte[Math.min(rest.remaining(), MAX_MESSAGE)];
      rest.get(chunk);
      chunks.add(chunk);
    }
    return chunks;
  }
}
