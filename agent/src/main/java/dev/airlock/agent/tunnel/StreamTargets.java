package dev.airlock.agent.tunnel;

import dev.airlock.protocol.message.SignalMessage;
import io.netty.buffer.ByteBuf;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What a tunnel's streams lead to: an edge node's declared TCP targets ({@link TcpTargets}), or,
 * for a trusted cluster's link, the leaf cluster itself ({@code dev.airlock.agent.cluster}).
 */
public interface StreamTargets {

  /** The far end of one stream. */
  interface FarEnd {

    /** Its bytes, each buffer retained for the caller, who releases it. */
    Flux<ByteBuf> receive();

    /** Sends {@code bytes} to it (the caller keeps the buffers' ownership). */
    Mono<Void> send(Flux<ByteBuf> bytes);

    /** Closes it; idempotent. */
    void dispose();
  }

  /**
   * Connects what {@code open} ({@code tunnel.open}) asks for.
   *
   * @return the far end; or an error {@link Unreachable} whose message the client is told
   */
  Mono<FarEnd> dial(SignalMessage open);

  /** A stream that cannot be opened, and why, in words for the user. */
  final class Unreachable extends RuntimeException {
    public Unreachable(String message) {
      super(message, null, false, false);
    }
  }
}
