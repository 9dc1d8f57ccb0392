package dev.airlock.bench;

import dev.airlock.bench.Endpoint.Result;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Loads one endpoint for a warm-up and then a measurement window, in one of two ways:
 *
 * <ul>
 *   <li>closed loop: a fixed number of requests in flight, each one replaced as soon as it is
 *       answered (the maximum throughput, and the latency at that throughput);
 *   <li>open loop: requests sent on a fixed schedule whatever the answers; a latency counts from
 *       when the request was due, so a stalled server or driver is not hidden (no coordinated
 *       omission).
 * </ul>
 *
 * <p>The window counts the responses that arrive inside it, and ends after {@code duration} or
 * {@code maxRequests} responses, whichever comes first.
 */
final class Load {

  private final Duration warmup;
  private final Duration duration;
  private final long maxRequests;
  private final CpuMeter cpu;

  Load(Duration warmup, Duration duration, long maxRequests, CpuMeter cpu) {
    this.warmup = warmup;
    this.duration = duration;
    this.maxRequests = maxRequests;
    this.cpu = cpu;
  }

  /** Keeps {@code concurrency} requests in flight. */
  PhaseResult closedLoop(Endpoint endpoint, int concurrency) {
    ConnectionProvider connections = connections(endpoint, concurrency);
    try {
      HttpClient client = endpoint.client(connections);
      Window window = new Window();
      Mono<Void> worker =
          Mono.defer(
                  () -> {
                    long start = System.nanoTime();
                    return endpoint.send(client).doOnNext(r -> window.record(start, r));
                  })
              .repeat(() -> !window.finished())
              .then();
      CompletableFuture<Void> done =
          Flux.range(0, concurrency).flatMap(i -> worker, concurrency).then().toFuture();
      await(window::measuring);
      CpuMeter.Snapshot from = cpu.snapshot();
      await(window::finished);
      CpuMeter.Snapshot to = cpu.snapshot();
      waitFor(done, endpoint);
      return window.result(endpoint, concurrency + " in flight", 0, CpuMeter.between(from, to));
    } finally {
      connections.dispose();
    }
  }

  /** Sends {@code rate} requests a second, with at most {@code maxInFlight} outstanding. */
  PhaseResult openLoop(Endpoint endpoint, double rate, int maxInFlight) {
    ConnectionProvider connections = connections(endpoint, maxInFlight);
    try {
      HttpClient client = endpoint.client(connections);
      Window window = new Window();
      AtomicInteger inFlight = new AtomicInteger();
      double period = 1e9 / rate;
      CpuMeter.Snapshot from = null;
      for (long sent = 0; !window.finished(); ) {
        long now = System.nanoTime();
        if (from == null && window.measuring()) {
          from = cpu.snapshot();
        }
        long due = window.start + (long) (sent * period);
        if (due > now) {
          LockSupport.parkNanos(Math.min(due - now, 1_000_000));
          continue;
        }
        if (inFlight.get() >= maxInFlight) {
          LockSupport.parkNanos(20_000);
          continue;
        }
        inFlight.incrementAndGet();
        endpoint
            .send(client)
            .subscribe(
                r -> {
                  inFlight.decrementAndGet();
                  window.record(due, r);
                });
        sent++;
      }
      CpuMeter.Snapshot to = cpu.snapshot();
      long deadline = System.nanoTime() + Endpoint.RESPONSE_TIMEOUT.toNanos() + 5_000_000_000L;
      while (inFlight.get() > 0 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(1_000_000);
      }
      return window.result(
          endpoint,
          String.format("%.0f/s", rate),
          rate,
          CpuMeter.between(from == null ? to : from, to));
    } finally {
      connections.dispose();
    }
  }

  private static ConnectionProvider connections(Endpoint endpoint, int size) {
    return ConnectionProvider.builder("bench-" + endpoint.name())
        .maxConnections(size)
        .pendingAcquireMaxCount(-1)
        .pendingAcquireTimeout(Endpoint.RESPONSE_TIMEOUT)
        .build();
  }

  // The driver's main thread waits here; the requests run on reactor-netty's event loops.
  private static void await(BooleanSupplier condition) {
    while (!condition.getAsBoolean()) {
      LockSupport.parkNanos(2_000_000);
    }
  }

  private void waitFor(CompletableFuture<Void> done, Endpoint endpoint) {
    try {
      done.get(Endpoint.RESPONSE_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(
          endpoint.name() + ": the last requests did not finish: " + e, e);
    }
  }

  /** The warm-up and measurement window of one phase, and what was counted in it. */
  private final class Window {
    final long start = System.nanoTime();
    final long measureStart = start + warmup.toNanos();
    final long measureEnd = measureStart + duration.toNanos();
    final Recorder latencies = new Recorder(3);
    final AtomicLong counted = new AtomicLong();
    final LongAdder errors = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    final List<String> errorSamples = new CopyOnWriteArrayList<>();
    volatile long stoppedAt;

    boolean measuring() {
      return System.nanoTime() >= measureStart;
    }

    boolean finished() {
      if (stoppedAt != 0) {
        return true;
      }
      if (System.nanoTime() >= measureEnd) {
        stoppedAt = measureEnd;
        return true;
      }
      return false;
    }

    void record(long startNanos, Result result) {
      long now = System.nanoTime();
      if (now < measureStart || now >= measureEnd || stoppedAt != 0) {
        return;
      }
      long n = counted.incrementAndGet();
      if (n > maxRequests) {
        return;
      }
      if (n == maxRequests) {
        stoppedAt = now;
      }
      latencies.recordValue(Math.max(1, (now - startNanos) / 1000));
      bytes.add(result.bytes());
      statuses.computeIfAbsent(result.status(), s -> new LongAdder()).increment();
      if (result.problem() != null) {
        errors.increment();
        if (errorSamples.size() < 5) {
          errorSamples.add(result.problem());
        }
      }
    }

    PhaseResult result(Endpoint endpoint, String load, double targetRate, CpuMeter.Usage usage) {
      long responses = Math.min(counted.get(), maxRequests);
      long end = stoppedAt == 0 ? measureEnd : stoppedAt;
      Map<Integer, Long> byStatus = new TreeMap<>();
      statuses.forEach((status, count) -> byStatus.put(status, count.sum()));
      Histogram histogram = latencies.getIntervalHistogram();
      return new PhaseResult(
          endpoint.name(),
          endpoint.label(),
          load,
          targetRate,
          responses,
          (end - measureStart) / 1e9,
          errors.sum(),
          byStatus,
          responses == 0 ? 0 : bytes.sum() / responses,
          histogram,
          usage,
          List.copyOf(errorSamples));
    }
  }
}
