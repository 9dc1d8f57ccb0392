package dev.airlock.platform.job;

import java.time.Duration;
import reactor.core.publisher.Mono;

/**
 * A scheduled job: a Spring bean the {@link ScheduledJobs} scheduler finds, runs on its cron
 * schedule ({@code airlock.jobs.<name>.cron}, default {@link #defaultCron()}) on one platform
 * replica at a time, and records in {@code job_runs}.
 *
 * <p>A run must be safe to interrupt at any point (the platform may die) and to run again: the next
 * run picks up where the last one stopped.
 */
public interface Job {

  /** Its name in the API, the settings and the lock, e.g. {@code audit-archive}. */
  String name();

  /** One sentence for {@code GET /jobs}. */
  String description();

  /** Its cron expression (seconds first), unless {@code airlock.jobs.<name>.cron} sets one. */
  String defaultCron();

  /** Whether its schedule fires unless {@code airlock.jobs.<name>.enabled} says otherwise. */
  default boolean enabledByDefault() {
    return true;
  }

  /** The longest a run may hold the lock (a replica that dies keeps it at most this long). */
  default Duration lockAtMostFor() {
    return Duration.ofMinutes(30);
  }

  /**
   * One run: counts what it does through {@code run.add(...)} as it goes (shown while it runs) and
   * emits a short summary, or nothing. An error ends the run as {@code failed}.
   */
  Mono<String> run(JobContext run);
}
