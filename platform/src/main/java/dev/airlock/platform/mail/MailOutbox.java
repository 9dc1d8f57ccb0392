package dev.airlock.platform.mail;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.job.ScheduledJobs;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code mail_outbox} table: notifications are rendered and queued here (one insert, nothing
 * waits for the SMTP server, nothing is lost while it is down), and the {@code mail} job ({@link
 * MailDelivery}) sends them, retrying with a doubling wait.
 */
@Component
public class MailOutbox {

  private static final Logger log = LoggerFactory.getLogger(MailOutbox.class);

  private static final Duration LONGEST_WAIT = Duration.ofHours(1);

  private final DatabaseClient db;
  private final MailTemplates templates;
  private final AirlockProperties.Mail settings;
  private final ObjectProvider<ScheduledJobs> scheduler;

  public MailOutbox(
      DatabaseClient db,
      MailTemplates templates,
      AirlockProperties properties,
      ObjectProvider<ScheduledJobs> scheduler) {
    this.db = db;
    this.templates = templates;
    this.settings = properties.mail();
    this.scheduler = scheduler;
  }

  /** Whether mail is on ({@code airlock.mail.enabled}). */
  public boolean enabled() {
    return settings.enabled();
  }

  /**
   * Queues template {@code template} for {@code to} and asks for a delivery at once; emits whether
   * a mail was queued (not when mail is off or {@code to} has no address).
   */
  public Mono<Boolean> send(MailRecipient to, String template, Map<String, String> variables) {
    return add(to, template, variables)
        .doOnNext(
            queued -> {
              if (queued) {
                deliverSoon();
              }
            });
  }

  /**
   * Queues template {@code template} for {@code to}, inside the caller's transaction if there is
   * one, without asking for a delivery (call {@link #deliverSoon()} after the commit); emits
   * whether a mail was queued. {@code variables} are the template's own; the recipient's names and
   * the base URL are added.
   */
  public Mono<Boolean> add(MailRecipient to, String template, Map<String, String> variables) {
    if (!settings.enabled() || !to.reachable()) {
      return Mono.just(false);
    }
    return Mono.defer(
        () -> {
          Map<String, String> all = new LinkedHashMap<>(variables);
          all.put("username", to.username());
          all.put("displayName", to.greeting());
          all.put("baseUrl", settings.baseUrl());
          MailTemplates.Rendered mail = templates.render(template, all);
          Instant now = Rows.now();
          return db.sql(
                  "INSERT INTO mail_outbox (id, recipient, template, subject, body, created_at,"
                      + " next_attempt_at) VALUES (:id, :to, :template, :subject, :body, :now,"
                      + " :now)")
              .bind("id", UUID.randomUUID().toString())
              .bind("to", to.email().strip())
              .bind("template", template)
              .bind("subject", mail.subject())
              .bind("body", mail.body())
              .bind("now", Rows.column(now))
              .then()
              .thenReturn(true);
        });
  }

  /**
   * Starts a run of the {@code mail} job now rather than at its next tick, unless a run holds its
   * lease (that run, or the next tick, sends what was queued) or its schedule is disabled.
   */
  public void deliverSoon() {
    ScheduledJobs jobs = scheduler.getIfAvailable();
    if (jobs == null
        || !settings.enabled()
        || jobs.jobs().stream()
            .noneMatch(job -> job.name().equals(MailDelivery.JOB) && job.enabled())) {
      return;
    }
    jobs.runScheduled(MailDelivery.JOB)
        .subscribe(null, e -> log.debug("mail: could not start a delivery: {}", e.toString()));
  }

  /** Mails due for an attempt at {@code now}, oldest first. */
  Flux<OutboxMail> due(Instant now, int limit) {
    return db.sql(
            "SELECT id, recipient, template, subject, body, attempts FROM mail_outbox"
                + " WHERE next_attempt_at <= :now ORDER BY row_no LIMIT :limit")
        .bind("now", Rows.column(now))
        .bind("limit", limit)
        .map(
            row ->
                new OutboxMail(
                    row.get("id", String.class),
                    row.get("recipient", String.class),
                    row.get("template", String.class),
                    row.get("subject", String.class),
                    row.get("body", String.class),
                    row.get("attempts", Integer.class)))
        .all();
  }

  /** Records that {@code mail} was handed to the SMTP server. */
  Mono<Void> sent(OutboxMail mail, Instant now) {
    return db.sql(
            "UPDATE mail_outbox SET sent_at = :now, attempts = attempts + 1,"
                + " next_attempt_at = NULL, last_error = NULL WHERE id = :id")
        .bind("now", Rows.column(now))
        .bind("id", mail.id())
        .then();
  }

  /**
   * Records a failed attempt and when to try again: {@code retry-backoff}, doubled after each
   * further failure (at most an hour, plus up to a tenth at random); after {@code max-attempts} the
   * mail is given up. Emits true when it was given up.
   */
  Mono<Boolean> failed(OutboxMail mail, String error, Instant now) {
    int attempts = mail.attempts() + 1;
    boolean givenUp = attempts >= settings.maxAttempts();
    Instant next = givenUp ? null : now.plus(wait(attempts));
    var update =
        db.sql(
                "UPDATE mail_outbox SET attempts = :attempts, next_attempt_at = :next,"
                    + " last_error = :error WHERE id = :id")
            .bind("attempts", attempts)
            .bind("error", error)
            .bind("id", mail.id());
    update = Rows.bind(update, "next", Rows.column(next), java.time.LocalDateTime.class);
    return update.then().thenReturn(givenUp);
  }

  private Duration wait(int attempts) {
    Duration wait = settings.retryBackoff();
    for (int i = 1; i < attempts && wait.compareTo(LONGEST_WAIT) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    if (wait.compareTo(LONGEST_WAIT) > 0) {
      wait = LONGEST_WAIT;
    }
    return wait.plusMillis(ThreadLocalRandom.current().nextLong(wait.toMillis() / 10 + 1));
  }

  /** Mails neither sent nor given up. */
  Mono<Long> pending() {
    return db.sql("SELECT COUNT(*) FROM mail_outbox WHERE next_attempt_at IS NOT NULL")
        .map(row -> row.get(0, Long.class))
        .one();
  }

  /** Removes mails sent, or given up, before {@code cutoff}; emits how many. */
  Mono<Long> removeDoneBefore(Instant cutoff) {
    return db.sql("DELETE FROM mail_outbox WHERE next_attempt_at IS NULL AND created_at < :cutoff")
        .bind("cutoff", Rows.column(cutoff))
        .fetch()
        .rowsUpdated();
  }
}
