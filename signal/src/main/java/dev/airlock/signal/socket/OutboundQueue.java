package dev.airlock.signal.socket;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * An ordered queue of outbound messages, counted in bytes, that one connection writes as its peer
 * reads. {@link #offer} never waits; {@link #whenWritable()} lets a forwarder wait while more than
 * {@link #HIGH_WATER} bytes are queued, until they drain below {@link #LOW_WATER}, so that the
 * sending side stops reading (TCP or HTTP/2 backpressure) instead of this node buffering without
 * bound.
 *
 * @param <T> the message type; each one owns a buffer, released when it is dropped
 */
public final class OutboundQueue<T> {

  /**
   * Queued bytes at which forwarders wait. Counted in bytes, not messages: relayed frames are up to
   * 64 KiB, and a busy stream must stay well under a megabyte of buffers.
   */
  public static final int HIGH_WATER = 256 * 1024;

  /** Queued bytes at which waiting forwarders resume. */
  public static final int LOW_WATER = 64 * 1024;

  private final Sinks.Many<T> sink = Sinks.many().unicast().onBackpressureBuffer();
  private final Class<T> type;
  private final ToIntFunction<T> size;
  private final Consumer<T> release;
  private final AtomicLong queued = new AtomicLong();
  private final Queue<MonoSink<Void>> waiters = new ConcurrentLinkedQueue<>();
  private volatile boolean closed;

  public OutboundQueue(Class<T> type, ToIntFunction<T> size, Consumer<T> release) {
    this.type = type;
    this.size = size;
    this.release = release;
  }

  /** The messages in order, for the connection to write; subscribe once. */
  public Flux<T> messages() {
    return sink.asFlux()
        .doOnNext(message -> dequeued(size.applyAsInt(message)))
        .doOnDiscard(type, release);
  }

  /** Queues {@code message}, taking ownership; released at once when the queue is closed. */
  public synchronized void offer(T message) {
    // Serialised: several event loops may write into the same queue.
    if (closed) {
      release.accept(message);
      return;
    }
    int bytes = size.applyAsInt(message);
    queued.addAndGet(bytes);
    if (sink.tryEmitNext(message).isFailure()) {
      queued.addAndGet(-bytes);
      release.accept(message);
    }
  }

  /**
   * Waits while the queue is full, then queues {@code message}, taking ownership (released if the
   * wait is cancelled or the queue closes meanwhile).
   */
  public Mono<Void> forward(T message) {
    AtomicBoolean handedOver = new AtomicBoolean();
    return whenWritable()
        .then(
            Mono.fromRunnable(
                () -> {
                  if (handedOver.compareAndSet(false, true)) {
                    offer(message);
                  }
                }))
        .doOnCancel(
            () -> {
              if (handedOver.compareAndSet(false, true)) {
                release.accept(message);
              }
            })
        .then();
  }

  /** Completes at once while the queue has room, else when it drains or closes. */
  public Mono<Void> whenWritable() {
    if (queued.get() < HIGH_WATER || closed) {
      return Mono.empty();
    }
    return Mono.create(
        waiter -> {
          waiters.add(waiter);
          // It may have drained between the check and the add.
          if (queued.get() < HIGH_WATER || closed) {
            wakeWaiters();
          }
        });
  }

  /**
   * Ends the queue after what is queued; later offers are released.
   *
   * @return whether this call closed it (false when it was closed already)
   */
  public boolean close() {
    synchronized (this) {
      if (closed) {
        return false;
      }
      closed = true;
      sink.tryEmitComplete();
    }
    wakeWaiters();
    return true;
  }

  /** Whether {@link #close()} was called. */
  public boolean isClosed() {
    return closed;
  }

  /** Lets waiting forwarders go (their messages are then released); for a connection that died. */
  public void wakeWaiters() {
    MonoSink<Void> waiter;
    while ((waiter = waiters.poll()) != null) {
      waiter.success();
    }
  }

  private void dequeued(int bytes) {
    if (queued.addAndGet(-bytes) <= LOW_WATER) {
      wakeWaiters();
    }
  }
}
