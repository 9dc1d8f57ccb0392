package dev.airlock.platform.job;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.JobOutcome;
import dev.airlock.platform.api.model.JobRun;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import io.r2dbc.spi.ConnectionFactory;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockProvider;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.provider.r2dbc.R2dbcLockProvider;
import net.javacrumbs.shedlock.support.KeepAliveLockProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.event.EventListener;
import org.springframework.scheduling.support.CronExpression;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The one scheduler of every {@link Job}: each fires on its cron expression (UTC), takes the job's
 * ShedLock lease in the {@code shedlock} table (so with several platform replicas one runs it and
 * the others skip that round), records the run in {@code job_runs} with its counts as it goes, and
 * releases the lease. The lease is kept alive while the run lasts and lapses {@link #LEASE} after a
 * replica dies, so a killed run never blocks the job for long.
 */
@Component
public class ScheduledJobs implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ScheduledJobs.class);

  /** How long a dead replica keeps a job's lease (the live one extends it every half). */
  static final Duration LEASE = Duration.ofSeconds(30);

  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);

  private final Map<String, Scheduled> jobs = new LinkedHashMap<>();
  private final JobRuns runs;
  private final ApplicationEventPublisher events;
  private final ScheduledExecutorService keepAlive;
  private final LockProvider locks;
  private final String replica;
  private final Disposable.Composite running = Disposables.composite();

  public ScheduledJobs(
      ConnectionFactory connections,
      List<Job> jobs,
      JobRuns runs,
      ApplicationEventPublisher events,
      AirlockProperties properties) {
    this.runs = runs;
    this.events = events;
    this.keepAlive =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread thread = new Thread(r, "job-lease-keeper");
              thread.setDaemon(true);
              return thread;
            });
    this.locks = new KeepAliveLockProvider(new R2dbcLockProvider(connections), keepAlive);
    this.replica = ManagementFactory.getRuntimeMXBean().getName();
    Map<String, AirlockProperties.JobSettings> settings = normalised(properties.jobs());
    for (Job job : jobs) {
      AirlockProperties.JobSettings own = settings.remove(key(job.name()));
      String cron = own != null && own.cron() != null ? own.cron() : job.defaultCron();
      boolean enabled =
          own != null && own.enabled() != null ? own.enabled() : job.enabledByDefault();
      CronExpression expression;
      try {
        expression = CronExpression.parse(cron);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "airlock.jobs."
                + job.name()
                + ".cron: '"
                + cron
                + "' is not a cron expression ("
                + e.getMessage()
                + "); expected six fields: second minute hour day month weekday",
            e);
      }
      if (this.jobs.put(job.name(), new Scheduled(job, cron, expression, enabled)) != null) {
        throw new IllegalStateException("two jobs named " + job.name());
      }
    }
    if (!settings.isEmpty()) {
      throw new IllegalArgumentException(
          "airlock.jobs: no job named "
              + String.join(", ", settings.keySet())
              + " (jobs: "
              + String.join(", ", this.jobs.keySet())
              + ")");
    }
  }

  @EventListener(ApplicationReadyEvent.class)
  void start() {
    for (Scheduled job : jobs.values()) {
      if (job.enabled()) {
        running.add(
            Mono.defer(() -> Mono.delay(untilNext(job)))
                .then(Mono.defer(() -> runScheduled(job.job().name())))
                .onErrorResume(e -> Mono.empty())
                .repeat()
                .subscribe());
      }
    }
  }

  /** Every job with its schedule, in the order they were registered. */
  public List<View> jobs() {
    List<View> views = new ArrayList<>();
    for (Scheduled job : jobs.values()) {
      Instant next =
          job.enabled()
              ? job.expression().next(ZonedDateTime.now(ZoneOffset.UTC)).toInstant()
              : null;
      views.add(
          new View(job.job().name(), job.job().description(), job.cron(), job.enabled(), next));
    }
    return views;
  }

  /** Whether a job of that name exists. */
  public boolean exists(String name) {
    return jobs.containsKey(name);
  }

  /**
   * Runs a job now on behalf of {@code by}: emits the started run once it holds the lease (the run
   * goes on in the background), or fails with {@code job-running} when another run holds it.
   */
  public Mono<JobRun> trigger(String name, String by) {
    Scheduled job = jobs.get(name);
    if (job == null) {
      return Mono.error(ApiProblem.notFound("job", name));
    }
    return lock(job.job())
        .flatMap(
            lock -> {
              if (lock.isEmpty()) {
                return Mono.error(
                    new ApiProblem(
                        ProblemType.JOB_RUNNING,
                        "A run of " + name + " is in progress; wait for it to end."));
              }
              JobContext context = new JobContext(UUID.randomUUID().toString(), "manual", by);
              return runs.start(name, context, replica)
                  .onErrorResume(e -> unlock(lock.get()).then(Mono.error(e)))
                  .doOnNext(
                      started -> running.add(execute(job.job(), context, lock.get()).subscribe()));
            });
  }

  /**
   * One scheduled run now, if this replica gets the lease; completes when the run has ended and
   * emits whether it ran (false when another replica holds the lease).
   */
  public Mono<Boolean> runScheduled(String name) {
    Scheduled job = jobs.get(name);
    if (job == null) {
      return Mono.error(new IllegalArgumentException("no job named " + name));
    }
    return lock(job.job())
        .flatMap(
            lock -> {
              if (lock.isEmpty()) {
                return Mono.just(false);
              }
              JobContext context = new JobContext(UUID.randomUUID().toString(), "schedule", null);
              return runs.start(name, context, replica)
                  .onErrorResume(e -> unlock(lock.get()).then(Mono.error(e)))
                  .then(execute(job.job(), context, lock.get()))
                  .thenReturn(true);
            })
        .onErrorResume(
            e -> {
              log.warn("job {}: could not start: {}", name, e.toString(), e);
              return Mono.just(false);
            });
  }

  private Mono<Void> execute(Job job, JobContext context, SimpleLock lock) {
    Mono<Void> work =
        Mono.defer(() -> job.run(context))
            .map(Optional::of)
            .defaultIfEmpty(Optional.empty())
            .flatMap(
                summary ->
                    runs.end(job.name(), context, JobOutcome.SUCCEEDED, summary.orElse(null)))
            .onErrorResume(
                e -> {
                  String message = describe(e);
                  log.warn("job {} failed: {}", job.name(), message, e);
                  events.publishEvent(new JobFailed(job.name(), context.id(), message));
                  return runs.end(job.name(), context, JobOutcome.FAILED, message);
                });
    Disposable progress =
        Flux.interval(PROGRESS_EVERY)
            .concatMap(t -> runs.progress(context).onErrorResume(e -> Mono.empty()))
            .subscribe();
    // The lease is released however the run ends: done, failed, or cancelled at shutdown.
    return Mono.usingWhen(
        Mono.just(lock),
        held ->
            work.doFinally(signal -> progress.dispose())
                .onErrorResume(
                    e -> {
                      log.warn(
                          "job {}: could not record the run's end: {}", job.name(), e.toString());
                      return Mono.empty();
                    }),
        ScheduledJobs::unlock,
        (held, e) -> unlock(held),
        ScheduledJobs::unlock);
  }

  private Mono<Optional<SimpleLock>> lock(Job job) {
    // ShedLock's R2DBC provider waits for its statements: take and release leases off the event
    // loops.
    Duration lease = job.lockAtMostFor().compareTo(LEASE) < 0 ? job.lockAtMostFor() : LEASE;
    return Mono.fromCallable(
            () ->
                locks.lock(new LockConfiguration(Instant.now(), job.name(), lease, Duration.ZERO)))
        .subscribeOn(Schedulers.boundedElastic());
  }

  private static Mono<Void> unlock(SimpleLock lock) {
    return Mono.<Void>fromRunnable(lock::unlock)
        .subscribeOn(Schedulers.boundedElastic())
        .onErrorResume(
            e -> {
              log.warn("could not release a job's lease (it lapses by itself): {}", e.toString());
              return Mono.empty();
            });
  }

  private static Duration untilNext(Scheduled job) {
    ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
    ZonedDateTime next = job.expression().next(now);
    return next == null ? Duration.ofDays(365) : Duration.between(now, next);
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  /** Settings keyed without dashes or case, so {@code AIRLOCK_JOBS_AUDITARCHIVE_CRON} matches. */
  private static Map<String, AirlockProperties.JobSettings> normalised(
      Map<String, AirlockProperties.JobSettings> settings) {
    Map<String, AirlockProperties.JobSettings> byKey = new LinkedHashMap<>();
    settings.forEach((name, value) -> byKey.put(key(name), value));
    return byKey;
  }

  private static String key(String name) {
    return name.toLowerCase().replaceAll("[^a-z0-9]", "");
  }

  @Override
  public void close() {
    running.dispose();
    try {
      runs.interruptAll(replica).block(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      log.debug("could not mark this replica's runs interrupted: {}", e.toString());
    }
    keepAlive.shutdownNow();
  }

  /** A job as {@code GET /jobs} shows it. */
  public record View(
      String name, String description, String cron, boolean enabled, Instant nextRunAt) {}

  private record Scheduled(Job job, String cron, CronExpression expression, boolean enabled) {}
}
