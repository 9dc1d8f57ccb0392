package dev.airlock.peer;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A {@link Channel} over a WebRTC data channel (ordered, reliable, binary messages).
 *
 * <p>Sends wait in a queue of this channel until the data channel is open and its buffer holds less
 * than {@link #HIGH} bytes: libwebrtc closes a data channel whose buffer passes 16 MiB, and
 * webrtc-java 0.14 never calls {@code onBufferedAmountChange}, so the queue polls the buffered
 * amount every few milliseconds while it is full.
 */
final class WebRtcChannel implements Channel {

  private static final Logger log = LoggerFactory.getLogger(WebRtcChannel.class);

  static final long HIGH = 1 << 20;
  private static final long POLL_MILLIS = 2;
  private static final Scheduler POLLER = Schedulers.parallel();

  private record PendingSend(List<byte[]> chunks, MonoSink<Void> sink) {}

  private final RTCDataChannel channel;
  private final String label;
  private final AtomicLong bytesIn;
  private final AtomicLong bytesOut;
  private final Sinks.Many<ByteBuffer> inbound = Sinks.many().unicast().onBackpressureBuffer();
  private final ArrayDeque<PendingSend> queue = new ArrayDeque<>();
  private boolean drainScheduled;
  private volatile boolean closed;

  WebRtcChannel(RTCDataChannel channel, AtomicLong bytesIn, AtomicLong bytesOut) {
    this.channel = channel;
    this.label = channel.getLabel();
    this.bytesIn = bytesIn;
    this.bytesOut = bytesOut;
    channel.registerObserver(
        new RTCDataChannelObserver() {
          @Override
          public void onBufferedAmountChange(long previousAmount) {
            drain();
          }

          @Override
          public void onStateChange() {
            RTCDataChannelState state = channel.getState();
            if (state == RTCDataChannelState.OPEN) {
              drain();
            } else if (state == RTCDataChannelState.CLOSED) {
              ended();
            }
          }

          @Override
          public void onMessage(RTCDataChannelBuffer buffer) {
            // The native buffer is only valid during this call.
            ByteBuffer data = buffer.data;
            if (data.remaining() == 0) {
              return;
            }
            byte[] copy = new byte[data.remaining()];
            data.get(copy);
            bytesIn.addAndGet(copy.length);
            inbound.tryEmitNext(ByteBuffer.wrap(copy));
          }
        });
  }

  @Override
  public String label() {
    return label;
  }

  @Override
  public Mono<Void> send(ByteBuffer message) {
    return Mono.create(
        sink -> {
          List<byte[]> chunks = RelayChannel.chunks(message);
          synchronized (queue) {
            if (closed) {
              sink.error(closedError());
              return;
            }
            queue.add(new PendingSend(chunks, sink));
          }
          drain();
        });
  }

  private void drain() {
    synchronized (queue) {
      while (!queue.isEmpty()) {
        if (closed) {
          queue.poll().sink().error(closedError());
          continue;
        }
        if (channel.getState() != RTCDataChannelState.OPEN || channel.getBufferedAmount() > HIGH) {
          scheduleDrain();
          return;
        }
        PendingSend next = queue.poll();
        try {
          for (byte[] chunk : next.chunks()) {
            // webrtc-java sends a heap buffer's whole array, whatever its position and limit.
            channel.send(new RTCDataChannelBuffer(ByteBuffer.wrap(chunk), true));
            bytesOut.addAndGet(chunk.length);
          }
          next.sink().success();
        } catch (Exception e) {
          next.sink().error(e);
        }
      }
    }
  }

  private void scheduleDrain() {
    if (!drainScheduled) {
      drainScheduled = true;
      POLLER.schedule(
          () -> {
            synchronized (queue) {
              drainScheduled = false;
            }
            drain();
          },
          POLL_MILLIS,
          TimeUnit.MILLISECONDS);
    }
  }

  private IllegalStateException closedError() {
    return new IllegalStateException("channel " + label + " closed");
  }

  @Override
  public Flux<ByteBuffer> messages() {
    return inbound.asFlux();
  }

  @Override
  public Mono<Void> close() {
    return Mono.fromRunnable(this::dispose);
  }

  /** Closes and frees the native channel; runs on the WebRTC thread, never in a callback. */
  void dispose() {
    if (closed) {
      return;
    }
    ended();
    WebRtcRuntime.execute(
        () -> {
          try {
            channel.unregisterObserver();
            channel.close();
            channel.dispose();
          } catch (RuntimeException e) {
            log.debug("Data channel {} already gone: {}", label, e.toString());
          }
        });
  }

  private void ended() {
    synchronized (queue) {
      if (closed) {
        return;
      }
      closed = true;
    }
    drain();
    inbound.tryEmitComplete();
  }

  /** Whether the native channel has ended or is being closed. */
  boolean isClosed() {
    return closed;
  }
}
