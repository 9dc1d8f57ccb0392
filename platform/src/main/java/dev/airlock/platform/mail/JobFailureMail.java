package dev.airlock.platform.mail;

import dev.airlock.platform.database.Rows;
import dev.airlock.platform.job.JobFailed;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/**
 * Mails every administrator (an enabled user holding the built-in {@code admin} role, with an
 * e-mail address) when a run of a job fails ({@code job-failed}). Failures of the {@code mail} job
 * itself are not mailed: they would queue mail that the failing job must send.
 */
@Component
public class JobFailureMail {

  private static final Logger log = LoggerFactory.getLogger(JobFailureMail.class);

  private final DatabaseClient db;
  private final MailOutbox outbox;

  public JobFailureMail(DatabaseClient db, MailOutbox outbox) {
    this.db = db;
    this.outbox = outbox;
  }

  /** Queues the mails in the background (the event comes from a job's reactive pipeline). */
  @EventListener
  public void jobFailed(JobFailed failed) {
    if (!outbox.enabled() || MailDelivery.JOB.equals(failed.job())) {
      return;
    }
    String time = MailTemplates.TIME.format(Rows.now());
    administrators()
        .concatMap(
            admin ->
                outbox.add(
                    admin,
                    "job-failed",
                    Map.of(
                        "job",
                        failed.job(),
                        "runId",
                        failed.runId(),
                        "message",
                        failed.message() == null ? "" : failed.message(),
                        "time",
                        time)))
        .reduce(false, (any, queued) -> any || queued)
        .subscribe(
            queued -> {
              if (queued) {
                outbox.deliverSoon();
              }
            },
            e ->
                log.warn(
                    "job {} failed; could not queue mail to the administrators: {}",
                    failed.job(),
                    e.toString()));
  }

  private Flux<MailRecipient> administrators() {
    return db.sql(
            "SELECT u.username, u.display_name, u.email FROM users u JOIN user_roles r ON"
                + " r.user_id = u.id WHERE r.role_name = 'admin' AND NOT u.disabled AND u.email"
                + " IS NOT NULL AND u.email <> '' ORDER BY u.row_no")
        .map(
            row ->
                new MailRecipient(
                    row.get("username", String.class),
                    row.get("display_name", String.class),
                    row.get("email", String.class)))
        .all();
  }
}
