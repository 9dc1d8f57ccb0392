package dev.airlock.platform.job;

import dev.airlock.platform.api.model.JobOutcome;
import dev.airlock.platform.api.model.JobRun;
import dev.airlock.platform.api.model.JobTrigger;
import dev.airlock.platform.database.Rows;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The {@code job_runs} table: one row per run, written when it starts and when it ends. */
@Component
public class JobRuns {

  /** Runs kept per job; older ones are removed as new ones end. */
  static final int KEPT_PER_JOB = 200;

  private static final TypeReference<Map<String, Long>> COUNTS = new TypeReference<>() {};

  private final DatabaseClient db;
  private final JsonMapper json;

  public JobRuns(DatabaseClient db, JsonMapper json) {
    this.db = db;
    this.json = json;
  }

  /**
   * Records a run that has just taken the job's lock. Runs of the job still marked {@code running}
   * cannot be (the lock was free), so they are marked {@code interrupted} first.
   */
  Mono<JobRun> start(String job, JobContext run, String replica) {
    Instant now = Rows.now();
    Mono<Void> interrupted =
        db.sql(
                "UPDATE job_runs SET outcome = 'interrupted', ended_at = :now, message ="
                    + " 'the platform stopped, or lost its database, during this run'"
                    + " WHERE job = :job AND outcome = 'running'")
            .bind("now", Rows.column(now))
            .bind("job", job)
            .then();
    var insert =
        db.sql(
                "INSERT INTO job_runs (id, job, trigger_kind, triggered_by, started_at, outcome,"
                    + " counts, replica) VALUES (:id, :job, :trigger, :by, :now, 'running', '{}',"
                    + " :replica)")
            .bind("id", run.id())
            .bind("job", job)
            .bind("trigger", run.trigger())
            .bind("now", Rows.column(now))
            .bind("replica", replica);
    insert = Rows.bind(insert, "by", run.triggeredBy(), String.class);
    return interrupted.then(insert.then()).then(byId(run.id()));
  }

  /** Writes the counts of a run still going. */
  Mono<Void> progress(JobContext run) {
    return db.sql("UPDATE job_runs SET counts = :counts WHERE id = :id AND outcome = 'running'")
        .bind("counts", json.writeValueAsString(run.snapshot()))
        .bind("id", run.id())
        .then();
  }

  /** Records a run's end, then trims the job's history. */
  Mono<Void> end(String job, JobContext run, JobOutcome outcome, String message) {
    var update =
        db.sql(
                "UPDATE job_runs SET outcome = :outcome, ended_at = :now, counts = :counts,"
                    + " message = :message WHERE id = :id")
            .bind("outcome", outcome.getValue())
            .bind("now", Rows.column(Rows.now()))
            .bind("counts", json.writeValueAsString(run.snapshot()))
            .bind("id", run.id());
    update = Rows.bind(update, "message", truncate(message), String.class);
    return update.then().then(trim(job, run, outcome));
  }

  /**
   * Keeps the newest {@link #KEPT_PER_JOB} runs, and of consecutive scheduled runs that succeeded
   * without doing anything (a reaper's quiet rounds) only the newest, so the history shows what
   * happened; a run an administrator started is always kept.
   */
  private Mono<Void> trim(String job, JobContext run, JobOutcome outcome) {
    Mono<Void> quiet = Mono.empty();
    if (outcome == JobOutcome.SUCCEEDED && run.snapshot().values().stream().allMatch(n -> n == 0)) {
      quiet =
          db.sql(
                  "DELETE FROM job_runs WHERE job = :job AND id <> :id AND outcome = 'succeeded'"
                      + " AND trigger_kind = 'schedule' AND counts NOT REGEXP '[1-9]' AND row_no = (SELECT r FROM (SELECT"
                      + " MAX(row_no) AS r FROM job_runs WHERE job = :job AND id <> :id) newest)")
              .bind("job", job)
              .bind("id", run.id())
              .then();
    }
    Mono<Void> old =
        db.sql(
                "DELETE FROM job_runs WHERE job = :job AND row_no < (SELECT r FROM (SELECT row_no"
                    + " AS r FROM job_runs WHERE job = :job ORDER BY row_no DESC LIMIT 1 OFFSET "
                    + (KEPT_PER_JOB - 1)
                    + ") oldest_kept)")
            .bind("job", job)
            .then();
    return quiet.then(old);
  }

  /** One run. */
  public Mono<JobRun> byId(String id) {
    return db.sql("SELECT * FROM job_runs WHERE id = :id").bind("id", id).map(this::run).one();
  }

  /** A job's runs, newest first, before {@code beforeRow}. */
  public Flux<Page> page(String job, long beforeRow, int limit) {
    return db.sql(
            "SELECT * FROM job_runs WHERE job = :job AND row_no < :before ORDER BY row_no DESC"
                + " LIMIT :limit")
        .bind("job", job)
        .bind("before", beforeRow)
        .bind("limit", limit)
        .map(row -> new Page(row.get("row_no", Long.class), run(row)))
        .all();
  }

  /** The newest run of every job that has run. */
  public Mono<Map<String, JobRun>> latest() {
    return db.sql(
            "SELECT r.* FROM job_runs r JOIN (SELECT job, MAX(row_no) AS newest FROM job_runs"
                + " GROUP BY job) n ON r.row_no = n.newest")
        .map(this::run)
        .all()
        .collectMap(JobRun::getJob);
  }

  /** Marks this replica's runs still going as interrupted (at shutdown). */
  Mono<Void> interruptAll(String replica) {
    return db.sql(
            "UPDATE job_runs SET outcome = 'interrupted', ended_at = :now, message = 'the"
                + " platform stopped during this run' WHERE replica = :replica AND outcome ="
                + " 'running'")
        .bind("now", Rows.column(Rows.now()))
        .bind("replica", replica)
        .then();
  }

  private JobRun run(Readable row) {
    JobRun run =
        new JobRun(
            UUID.fromString(row.get("id", String.class)),
            row.get("job", String.class),
            JobTrigger.fromValue(row.get("trigger_kind", String.class)),
            Rows.offset(row.get("started_at", LocalDateTime.class)),
            JobOutcome.fromValue(row.get("outcome", String.class)),
            json.readValue(row.get("counts", String.class), COUNTS));
    run.setTriggeredBy(row.get("triggered_by", String.class));
    run.setEndedAt(Rows.offset(row.get("ended_at", LocalDateTime.class)));
    run.setMessage(row.get("message", String.class));
    run.setReplica(row.get("replica", String.class));
    return run;
  }

  private static String truncate(String message) {
    return message == null || message.length() <= 1024 ? message : message.substring(0, 1024);
  }

  /** A run and its position, for cursors. */
  public record Page(long rowNo, JobRun run) {}
}
