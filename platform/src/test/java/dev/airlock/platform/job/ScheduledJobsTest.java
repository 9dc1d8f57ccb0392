package dev.airlock.platform.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.platform.PlatformTestBase;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Mono;

/**
 * Two platform replicas on one database: a job runs on one of them at a time (its ShedLock lease in
 * the real MariaDB), the other skips the round, and takes it once the lease is released.
 */
class ScheduledJobsTest extends PlatformTestBase {

  @Autowired ConnectionFactory connections;
  @Autowired ScheduledJobs thisReplica;

  @Test
  void aJobRunsOnOneReplicaAtATime() {
    ScheduledJobs otherReplica = new ScheduledJobs(connections);
    AtomicInteger runs = new AtomicInteger();
    String job = "test-job-" + System.nanoTime();

    Mono<Boolean> slow =
        thisReplica.runOnce(
            job,
            Duration.ofMinutes(1),
            () -> Mono.delay(Duration.ofMillis(1500)).doOnNext(t -> runs.incrementAndGet()));
    Mono<Boolean> meanwhile =
        Mono.delay(Duration.ofMillis(500))
            .then(
                otherReplica.runOnce(
                    job, Duration.ofMinutes(1), () -> Mono.fromRunnable(runs::incrementAndGet)));

    var both = Mono.zip(slow, meanwhile).block(Duration.ofSeconds(30));
    assertThat(both.getT1()).as("the first replica ran it").isTrue();
    assertThat(both.getT2()).as("the second skipped it while the first held the lock").isFalse();
    assertThat(runs).hasValue(1);

    assertThat(
            otherReplica
                .runOnce(job, Duration.ofMinutes(1), () -> Mono.fromRunnable(runs::incrementAndGet))
                .block(Duration.ofSeconds(30)))
        .as("once released, the other replica runs it")
        .isTrue();
    assertThat(runs).hasValue(2);
  }

  @Test
  void aFailingRunReleasesTheLockAndDoesNotStopTheNext() {
    String job = "failing-job-" + System.nanoTime();
    assertThat(
            thisReplica
                .runOnce(
                    job, Duration.ofMinutes(1), () -> Mono.error(new IllegalStateException("boom")))
                .block(Duration.ofSeconds(30)))
        .isTrue();
    assertThat(
            new ScheduledJobs(connections)
                .runOnce(job, Duration.ofMinutes(1), () -> Mono.empty())
                .block(Duration.ofSeconds(30)))
        .isTrue();
  }
}
