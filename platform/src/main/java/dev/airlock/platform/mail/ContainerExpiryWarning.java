package dev.airlock.platform.mail;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Map;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * The {@code container-expiry-warning} job: mails the owner of each live container whose TTL ends
 * within {@code airlock.mail.expiry-warning} ({@code container-expiring}), once per container. The
 * container is marked ({@code expiry_warned_at}) in the transaction that queues the mail, so a run
 * cut short neither loses nor repeats a warning. An owner without an e-mail address (or disabled)
 * is not mailed, but the container is marked all the same. Counts: {@code warned}, {@code skipped}.
 */
@Component
public class ContainerExpiryWarning implements Job {

  /** The job's name. */
  public static final String JOB = "container-expiry-warning";

  private static final int BATCH = 500;

  // A container is due when its TTL ends within the warning time and it was not warned during
  // the current warning window (a warning before it means its TTL was moved since).
  private static final String DUE =
      "c.warm = FALSE AND c.owner_id IS NOT NULL AND c.state IN ('requested', 'provisioning',"
          + " 'starting', 'ready') AND c.expires_at > :now AND c.expires_at <= :until AND"
          + " (c.expiry_warned_at IS NULL OR c.expiry_warned_at < c.expires_at - INTERVAL"
          + " :warning SECOND)";

  private final DatabaseClient db;
  private final MailOutbox outbox;
  private final TransactionalOperator tx;
  private final AirlockProperties.Mail settings;

  public ContainerExpiryWarning(
      DatabaseClient db,
      MailOutbox outbox,
      TransactionalOperator tx,
      AirlockProperties properties) {
    this.db = db;
    this.outbox = outbox;
    this.tx = tx;
    this.settings = properties.mail();
  }

  @Override
  public String name() {
    return JOB;
  }

  @Override
  public String description() {
    return "Mails the owner of each container whose TTL ends within airlock.mail.expiry-warning,"
        + " once.";
  }

  @Override
  public String defaultCron() {
    return "0 * * * * *";
  }

  /** Its schedule fires only when mail is on. */
  @Override
  public boolean enabledByDefault() {
    return settings.enabled();
  }

  @Override
  public Mono<String> run(JobContext run) {
    if (!settings.enabled()) {
      return Mono.just("mail is off (airlock.mail.enabled is false): nothing warned");
    }
    Instant now = Rows.now();
    run.add("warned", 0);
    run.add("skipped", 0);
    return db.sql(
            "SELECT c.id, c.image_name, c.expires_at, u.username, u.display_name, u.email,"
                + " u.disabled FROM containers c JOIN users u ON u.id = c.owner_id WHERE "
                + DUE
                + " ORDER BY c.expires_at LIMIT "
                + BATCH)
        .bind("now", Rows.column(now))
        .bind("until", Rows.column(now.plus(settings.expiryWarning())))
        .bind("warning", settings.expiryWarning().toSeconds())
        .map(
            row ->
                new Due(
                    row.get("id", String.class),
                    row.get("image_name", String.class),
                    Rows.instant(row.get("expires_at", LocalDateTime.class)),
                    new MailRecipient(
                        row.get("username", String.class),
                        row.get("display_name", String.class),
                        Boolean.TRUE.equals(row.get("disabled", Boolean.class))
                            ? null
                            : row.get("email", String.class))))
        .all()
        .concatMap(due -> warn(due, now))
        .reduce(
            new long[2],
            (counts, queued) -> {
              counts[queued ? 0 : 1]++;
              run.add(queued ? "warned" : "skipped", 1);
              return counts;
            })
        .map(
            counts -> {
              if (counts[0] > 0) {
                outbox.deliverSoon();
              }
              return counts[0] + counts[1] == 0
                  ? ""
                  : counts[0] + " owners warned, " + counts[1] + " without an e-mail address";
            })
        .filter(summary -> !summary.isEmpty());
  }

  /**
   * Marks one container warned and queues its owner's mail, together; emits whether a mail was
   * queued, or nothing when the container is no longer due.
   */
  private Mono<Boolean> warn(Due due, Instant now) {
    long minutes = Math.max(1, Duration.between(now, due.expiresAt()).toMinutes());
    return tx.transactional(
        db.sql("UPDATE containers c SET c.expiry_warned_at = :now WHERE c.id = :id AND " + DUE)
            .bind("now", Rows.column(now))
            .bind("id", due.id())
            .bind("until", Rows.column(now.plus(settings.expiryWarning())))
            .bind("warning", settings.expiryWarning().toSeconds())
            .fetch()
            .rowsUpdated()
            .flatMap(
                marked ->
                    marked == 0
                        ? Mono.empty()
                        : outbox.add(
                            due.owner(),
                            "container-expiring",
                            Map.of(
                                "containerId", due.id(),
                                "image", due.image(),
                                "expiresAt", MailTemplates.TIME.format(due.expiresAt()),
                                "timeLeft", minutes + (minutes == 1 ? " minute" : " minutes")))));
  }

  private record Due(String id, String image, Instant expiresAt, MailRecipient owner) {}
}
