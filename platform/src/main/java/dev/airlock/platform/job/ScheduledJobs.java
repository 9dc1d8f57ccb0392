package dev.airlock.platform.job;

import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.provider.r2dbc.R2dbcLockProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Runs jobs at fixed intervals. Each run first takes the job's ShedLock lease in the {@code
 * shedlock} table, so with several platform replicas one runs it and the others skip that round; a
 * run that dies keeps the lease at most {@code lockAtMostFor}. A failed run is logged and the next
 * round runs as usual.
 */
@Component
public class ScheduledJobs implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ScheduledJobs.class);

  private final LockProvider locks;
  private final Disposable.Composite running = Disposables.composite();

  public ScheduledJobs(ConnectionFactory connections) {
    this.locks = new R2dbcLockProvider(connections);
  }

  /** Runs {@code job} every {@code interval}, under the lock named {@code name}. */
  public void every(String name, Duration interval, Duration lockAtMostFor, Supplier<Mono<?>> job) {
    running.add(
        Flux.interval(interval, interval)
            .onBackpressureDrop()
            .concatMap(tick -> runOnce(name, lockAtMostFor, job), 1)
            .subscribe());
  }

  /** One locked run now; emits whether it ran (false when another replica holds the lock). */
  public Mono<Boolean> runOnce(String name, Duration lockAtMostFor, Supplier<Mono<?>> job) {
    // ShedLock's R2DBC provider waits for its statements: take and release the lease off the
    // event loops.
    return Mono.fromCallable(
            () ->
                locks.lock(
                    new LockConfiguration(Instant.now(), name, lockAtMostFor, Duration.ZERO)))
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(
            (Optional<SimpleLock> lock) ->
                lock.isEmpty()
                    ? Mono.just(false)
                    : Mono.defer(job)
                        .then()
                        .doOnError(e -> log.warn("job {} failed: {}", name, e.toString(), e))
                        .onErrorResume(e -> Mono.empty())
                        .then(
                            Mono.fromRunnable(lock.get()::unlock)
                                .subscribeOn(Schedulers.boundedElastic()))
                        .thenReturn(true))
        .onErrorResume(
            e -> {
              log.warn("job {}: could not take its lock: {}", name, e.toString());
              return Mono.just(false);
            });
  }

  @Override
  public void close() {
    running.dispose();
  }
}
