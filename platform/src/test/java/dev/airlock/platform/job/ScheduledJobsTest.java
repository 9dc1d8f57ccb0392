package dev.airlock.platform.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.PlatformTestBase;
import dev.airlock.platform.api.model.JobOutcome;
import dev.airlock.platform.api.model.JobRun;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.http.MediaType;
import reactor.core.publisher.Mono;

/**
 * The scheduler on the real MariaDB: a job runs on one replica at a time (its ShedLock lease),
 * every run is recorded with its outcome and counts, a failure is kept and announced, and
 * administrators list jobs, read runs and run a job by hand through the API.
 */
class ScheduledJobsTest extends PlatformTestBase {

  @Autowired ConnectionFactory connections;
  @Autowired JobRuns runs;
  @Autowired AirlockProperties properties;

  private final List<Object> published = new CopyOnWriteArrayList<>();

  @Test
  void aJobRunsOnOneReplicaAtATimeAndEachRunIsRecorded() {
    AtomicInteger ran = new AtomicInteger();
    String name = "test-job-" + System.nanoTime();
    Job slow =
        job(
            name,
            run ->
                Mono.delay(Duration.ofMillis(1500))
                    .map(
                        t -> {
                          ran.incrementAndGet();
                          run.add("things", 3);
                          return "3 things";
                        }));
    ScheduledJobs replicaA = replica(slow);
    ScheduledJobs replicaB = replica(slow);

    Mono<Boolean> first = replicaA.runScheduled(name);
    Mono<Boolean> meanwhile = Mono.delay(Duration.ofMillis(500)).then(replicaB.runScheduled(name));
    var both = Mono.zip(first, meanwhile).block(Duration.ofSeconds(30));

    assertThat(both.getT1()).as("the first replica ran it").isTrue();
    assertThat(both.getT2()).as("the second skipped it while the first held the lease").isFalse();
    assertThat(ran).hasValue(1);
    assertThat(replicaB.runScheduled(name).block(Duration.ofSeconds(30)))
        .as("once released, the other replica runs it")
        .isTrue();
    assertThat(ran).hasValue(2);

    List<JobRun> recorded =
        runs.page(name, Long.MAX_VALUE, 10)
            .map(JobRuns.Page::run)
            .collectList()
            .block(Duration.ofSeconds(10));
    assertThat(recorded)
        .hasSize(2)
        .allSatisfy(
            run -> {
              assertThat(run.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
              assertThat(run.getCounts()).containsEntry("things", 3L);
              assertThat(run.getMessage()).isEqualTo("3 things");
              assertThat(run.getEndedAt()).isAfterOrEqualTo(run.getStartedAt());
            });
  }

  @Test
  void aFailedRunIsRecordedAndAnnouncedAndTheNextRunsAsUsual() {
    String name = "failing-job-" + System.nanoTime();
    AtomicInteger attempt = new AtomicInteger();
    ScheduledJobs replica =
        replica(
            job(
                name,
                run -> {
                  run.add("before-failing", 7);
                  return attempt.incrementAndGet() == 1
                      ? Mono.error(new IllegalStateException("directory unreachable"))
                      : Mono.empty();
                }));

    assertThat(replica.runScheduled(name).block(Duration.ofSeconds(30))).isTrue();
    assertThat(replica.runScheduled(name).block(Duration.ofSeconds(30))).isTrue();

    List<JobRun> recorded =
        runs.page(name, Long.MAX_VALUE, 10)
            .map(JobRuns.Page::run)
            .collectList()
            .block(Duration.ofSeconds(10));
    assertThat(recorded)
        .extracting(JobRun::getOutcome)
        .containsExactly(JobOutcome.SUCCEEDED, JobOutcome.FAILED);
    assertThat(recorded.get(1).getMessage()).isEqualTo("directory unreachable");
    assertThat(recorded.get(1).getCounts()).containsEntry("before-failing", 7L);
    assertThat(published)
        .containsExactly(
            new JobFailed(name, recorded.get(1).getId().toString(), "directory unreachable"));
  }

  @Test
  void aRunCutShortByShutdownIsMarkedInterrupted() throws Exception {
    String name = "long-job-" + System.nanoTime();
    ScheduledJobs replica = replica(job(name, run -> Mono.never()));
    var subscription = replica.runScheduled(name).subscribe();
    awaitRun(name, JobOutcome.RUNNING);

    subscription.dispose();
    replica.close();

    assertThat(awaitRun(name, JobOutcome.INTERRUPTED).getMessage()).contains("stopped");
    // The lease is released as the run is cancelled (not left to lapse after 30 s).
    ScheduledJobs next = replica(job(name, run -> Mono.empty()));
    boolean ran = false;
    for (int i = 0; i < 50 && !ran; i++) {
      ran = next.runScheduled(name).block(Duration.ofSeconds(30));
      Thread.sleep(100);
    }
    assertThat(ran).as("its lease was released: the job runs again within 5 s").isTrue();
  }

  @Test
  void settingsNameOnlyKnownJobsAndValidCronExpressions() {
    Job job = job("audit-sweep", run -> Mono.empty());
    assertThatThrownBy(
            () -> replica(bind(Map.of("airlock.jobs.audit-swep.cron", "0 * * * * *")), job))
        .hasMessageContaining("airlock.jobs: no job named auditswep (jobs: audit-sweep)");
    assertThatThrownBy(
            () -> replica(bind(Map.of("airlock.jobs.audit-sweep.cron", "every minute")), job))
        .hasMessageContaining(
            "airlock.jobs.audit-sweep.cron: 'every minute' is not a cron expression");
    ScheduledJobs disabled =
        replica(
            bind(
                Map.of("AIRLOCK_JOBS_AUDITSWEEP_ENABLED".toLowerCase().replace('_', '.'), "false")),
            job);
    assertThat(disabled.jobs())
        .singleElement()
        .satisfies(
            view -> {
              assertThat(view.enabled()).isFalse();
              assertThat(view.nextRunAt()).isNull();
            });
  }

  @Test
  void administratorsListJobsReadRunsAndRunOneByHand() throws Exception {
    String token = adminToken();
    http.get()
        .uri("/api/v1/jobs")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.items[?(@.name == 'container-reaper')].schedule")
        .isEqualTo("*/15 * * * * *")
        .jsonPath("$.items[?(@.name == 'container-reaper')].enabled")
        .isEqualTo(true)
        .jsonPath("$.items[?(@.name == 'container-reaper')].nextRunAt")
        .exists()
        .jsonPath("$.items[?(@.name == 'warm-pool')].description")
        .exists();
    dev.airlock.platform.api.model.JobList listed =
        http.get()
            .uri("/api/v1/jobs")
            .headers(h -> h.setBearerAuth(token))
            .exchange()
            .expectBody(dev.airlock.platform.api.model.JobList.class)
            .returnResult()
            .getResponseBody();
    assertThat(listed.getItems())
        .extracting(dev.airlock.platform.api.model.Job::getName)
        .as("every job the platform runs")
        .containsExactlyInAnyOrder(
            "container-reaper",
            "warm-pool",
            "audit-archive",
            "directory-sync",
            "mail",
            "container-expiry-warning");
    assertThat(listed.getItems())
        .filteredOn(job -> job.getName().equals("audit-archive"))
        .singleElement()
        .satisfies(
            job -> {
              assertThat(job.getSchedule()).isEqualTo("0 15 3 * * *");
              assertThat(job.getEnabled()).isTrue();
            });

    JobRun started =
        http.post()
            .uri("/api/v1/jobs/container-reaper/runs")
            .headers(h -> h.setBearerAuth(token))
            .exchange()
            .expectStatus()
            .isAccepted()
            .expectBody(JobRun.class)
            .returnResult()
            .getResponseBody();
    assertThat(started.getTrigger().getValue()).isEqualTo("manual");
    assertThat(started.getTriggeredBy()).isEqualTo("admin");
    JobRun ended = awaitRun("container-reaper", started.getId().toString());
    assertThat(ended.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    assertThat(ended.getCounts()).containsKeys("stopped", "orphansRemoved");

    // The reaper's own schedule (every 15 s) may have started a newer run since: the job's last
    // run is this one or a later one, and this one is in its history as it ended.
    dev.airlock.platform.api.model.JobList after =
        http.get()
            .uri("/api/v1/jobs")
            .headers(h -> h.setBearerAuth(token))
            .exchange()
            .expectBody(dev.airlock.platform.api.model.JobList.class)
            .returnResult()
            .getResponseBody();
    JobRun last =
        after.getItems().stream()
            .filter(job -> job.getName().equals("container-reaper"))
            .findFirst()
            .orElseThrow()
            .getLastRun();
    assertThat(last.getStartedAt()).isAfterOrEqualTo(started.getStartedAt());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> history =
        (List<Map<String, Object>>)
            getJson("/api/v1/jobs/container-reaper/runs?limit=20", token).get("items");
    assertThat(history)
        .filteredOn(run -> started.getId().toString().equals(run.get("id")))
        .singleElement()
        .satisfies(run -> assertThat(run.get("outcome")).isEqualTo("succeeded"));
    http.get()
        .uri("/api/v1/audit/events?action=job.run")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.items[0].actor")
        .isEqualTo("admin")
        .jsonPath("$.items[0].target")
        .isEqualTo("container-reaper");

    http.post()
        .uri("/api/v1/jobs/no-such-job/runs")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isNotFound()
        .expectHeader()
        .contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON);
  }

  @Test
  void aJobAnotherReplicaIsRunningIsRefusedWithJobRunning() throws Exception {
    String token = adminToken();
    // Another replica holds warm-pool's lease for a while (once this platform's own warm-pool
    // round, every 5 s, has let go of it).
    java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
    ScheduledJobs other =
        replica(
            job(
                "warm-pool",
                run ->
                    Mono.fromRunnable(holding::countDown)
                        .then(Mono.delay(Duration.ofSeconds(3)))
                        .thenReturn("held")));
    reactor.core.Disposable busy = null;
    for (int i = 0; i < 20 && holding.getCount() > 0; i++) {
      busy = other.runScheduled("warm-pool").subscribe();
      holding.await(500, java.util.concurrent.TimeUnit.MILLISECONDS);
    }
    assertThat(holding.getCount()).as("the other replica took the lease").isZero();

    http.post()
        .uri("/api/v1/jobs/warm-pool/runs")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isEqualTo(409)
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:job-running");
    busy.dispose();
    other.close();
  }

  private ScheduledJobs replica(Job... jobs) {
    return replica(properties, jobs);
  }

  private ScheduledJobs replica(AirlockProperties settings, Job... jobs) {
    return new ScheduledJobs(connections, List.of(jobs), runs, published::add, settings);
  }

  private static AirlockProperties bind(Map<String, String> settings) {
    return new Binder(new MapConfigurationPropertySource(settings))
        .bindOrCreate("airlock", AirlockProperties.class);
  }

  private JobRun awaitRun(String job, JobOutcome outcome) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      JobRun newest =
          runs.page(job, Long.MAX_VALUE, 1)
              .map(JobRuns.Page::run)
              .next()
              .block(Duration.ofSeconds(10));
      if (newest != null && newest.getOutcome() == outcome) {
        return newest;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no run of " + job + " became " + outcome);
  }

  private JobRun awaitRun(String job, String id) throws InterruptedException {
    for (int i = 0; i < 100; i++) {
      JobRun run = runs.byId(id).block(Duration.ofSeconds(10));
      if (run.getOutcome() != JobOutcome.RUNNING) {
        return run;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("run " + id + " of " + job + " did not end");
  }

  private static Job job(String name, Function<JobContext, Mono<String>> body) {
    return new Job() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String description() {
        return "a test job";
      }

      @Override
      public String defaultCron() {
        return "0 0 0 1 1 *";
      }

      @Override
      public Mono<String> run(JobContext run) {
        return body.apply(run);
      }
    };
  }
}
