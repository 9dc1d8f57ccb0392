package dev.airlock.platform.job;

import dev.airlock.platform.api.JobsApi;
import dev.airlock.platform.api.model.Job;
import dev.airlock.platform.api.model.JobList;
import dev.airlock.platform.api.model.JobRun;
import dev.airlock.platform.api.model.JobRunPage;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.web.Cursors;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** {@code /api/v1/jobs}: the jobs with their last run, their runs, and running one by hand. */
@RestController
public class JobHandler implements JobsApi {

  private final ScheduledJobs jobs;
  private final JobRuns runs;
  private final Access access;

  public JobHandler(ScheduledJobs jobs, JobRuns runs, Access access) {
    this.jobs = jobs;
    this.runs = runs;
    this.access = access;
  }

  @Override
  public Mono<ResponseEntity<JobList>> listJobs(ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, null)
        .then(runs.latest())
        .map(
            latest -> {
              List<Job> items =
                  jobs.jobs().stream()
                      .map(
                          view -> {
                            Job job =
                                new Job(
                                    view.name(), view.description(), view.cron(), view.enabled());
                            if (view.nextRunAt() != null) {
                              job.setNextRunAt(view.nextRunAt().atOffset(ZoneOffset.UTC));
                            }
                            job.setLastRun(latest.get(view.name()));
                            return job;
                          })
                      .toList();
              return ResponseEntity.ok(new JobList(items));
            });
  }

  @Override
  public Mono<ResponseEntity<JobRunPage>> listJobRuns(
      String jobName, Integer limit, String cursor, ServerWebExchange exchange) {
    long before = Cursors.decode(cursor, Long.MAX_VALUE);
    return access
        .require(exchange, Map.of(), null, jobName)
        .then(jobs.exists(jobName) ? Mono.empty() : Mono.error(ApiProblem.notFound("job", jobName)))
        .thenMany(runs.page(jobName, before, limit + 1))
        .collectList()
        .map(
            rows -> {
              List<JobRuns.Page> page = rows.size() > limit ? rows.subList(0, limit) : rows;
              JobRunPage result = new JobRunPage(page.stream().map(JobRuns.Page::run).toList());
              if (rows.size() > limit) {
                result.setNextCursor(Cursors.encode(page.get(page.size() - 1).rowNo()));
              }
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<JobRun>> runJob(String jobName, ServerWebExchange exchange) {
    String by = Access.caller(exchange).username();
    return access
        .require(exchange, Map.of(), null, jobName)
        .then(jobs.trigger(jobName, by))
        .flatMap(
            run ->
                access
                    .success(exchange, "job.run", "job", jobName, "run " + run.getId())
                    .thenReturn(ResponseEntity.status(HttpStatus.ACCEPTED).body(run)));
  }
}
