package dev.airlock.peer;

import dev.airlock.protocol.RelayFrame;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The relayed channels of one session on a signal socket: opens channels by label, routes the
 * frames the node forwards to them, and reports the channels the other end opened. Thread-safe.
 */
public final class RelayChannels {

  private final SignalSocket socket;
  private final UUID sessionId;
  private final AtomicLong bytesIn;
  private final AtomicLong bytesOut;
  private final Map<String, RelayChannel> channels = new ConcurrentHashMap<>();
  private final Sinks.Many<Channel> opened = Sinks.many().unicast().onBackpressureBuffer();

  /**
   * @param bytesIn counts the payload bytes received on every channel
   * @param bytesOut counts the payload bytes sent on every channel
   */
  public RelayChannels(
      SignalSocket socket, UUID sessionId, AtomicLong bytesIn, AtomicLong bytesOut) {
    this.socket = socket;
    this.sessionId = sessionId;
    this.bytesIn = bytesIn;
    this.bytesOut = bytesOut;
  }

  /**
   * Opens the channel {@code label} (or returns the one already open) and tells the other end;
   * completes when that announcement is queued.
   */
  public Mono<Channel> open(String label) {
    return Mono.defer(
        () -> {
          RelayChannel[] created = new RelayChannel[1];
          RelayChannel channel =
              channels.computeIfAbsent(
                  label,
                  key -> created[0] = new RelayChannel(socket, sessionId, key, bytesIn, bytesOut));
          return created[0] == null ? Mono.just(channel) : channel.announce().thenReturn(channel);
        });
  }

  /**
   * Routes a frame the node forwarded; a frame on a label not seen before opens that channel and
   * publishes it on {@link #remotelyOpened()}. Frames of another session are ignored.
   */
  public void accept(RelayFrame frame) {
    if (!sessionId.equals(frame.sessionId())) {
      return;
    }
    RelayChannel[] created = new RelayChannel[1];
    RelayChannel channel =
        channels.computeIfAbsent(
            frame.channel(),
            key -> created[0] = new RelayChannel(socket, sessionId, key, bytesIn, bytesOut));
    if (created[0] != null) {
      opened.tryEmitNext(channel);
    }
    channel.deliver(frame.payload());
  }

  /** The channels the other end opened, as they appear; single subscriber. */
  public Flux<Channel> remotelyOpened() {
    return opened.asFlux();
  }

  /** Ends every channel; further frames are ignored. */
  public void close() {
    opened.tryEmitComplete();
    channels.values().forEach(RelayChannel::ended);
  }
}
