package dev.airlock.platform.mail;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code mail} job: sends the outbox's due mails one by one, records each failure ({@code
 * last_error}) with the time of the next attempt, stops the round at the first failure that is the
 * server's rather than one mail's, and removes mails done for a week. Its counts: {@code sent},
 * {@code failed} (attempts that failed this run), {@code gaveUp}, {@code pending} (left in the
 * outbox) and {@code removed}.
 *
 * <p>A mail is recorded as sent after the server took it: a run killed in between sends it again
 * (with the same Message-ID), never loses it.
 */
@Component
public class MailDelivery implements Job {

  private static final Logger log = LoggerFactory.getLogger(MailDelivery.class);

  /** The job's name. */
  public static final String JOB = "mail";

  private static final int BATCH = 50;
  private static final int MAX_BATCHES = 20;
  private static final Duration KEEP_DONE = Duration.ofDays(7);

  private final MailOutbox outbox;
  private final SmtpTransport transport;
  private final AirlockProperties.Mail settings;

  public MailDelivery(MailOutbox outbox, SmtpTransport transport, AirlockProperties properties) {
    this.outbox = outbox;
    this.transport = transport;
    this.settings = properties.mail();
  }

  @Override
  public String name() {
    return JOB;
  }

  @Override
  public String description() {
    return "Sends queued notification mails through the SMTP server of airlock.mail.*, retrying"
        + " those that failed.";
  }

  @Override
  public String defaultCron() {
    return "*/10 * * * * *";
  }

  /** Its schedule fires only when mail is on. */
  @Override
  public boolean enabledByDefault() {
    return settings.enabled();
  }

  @Override
  public Mono<String> run(JobContext run) {
    if (!settings.enabled()) {
      return Mono.just("mail is off (airlock.mail.enabled is false): nothing sent");
    }
    Round round = new Round(run);
    return batches(round, 1)
        .then(outbox.removeDoneBefore(Rows.now().minus(KEEP_DONE)))
        .doOnNext(removed -> run.add("removed", removed))
        .then(outbox.pending())
        .mapNotNull(
            pending -> {
              run.add("pending", pending);
              if (round.sent + round.failed == 0) {
                return pending == 0 ? null : pending + " pending";
              }
              return round.sent
                  + " sent, "
                  + round.failed
                  + " failed"
                  + (round.gaveUp == 0 ? "" : " (" + round.gaveUp + " given up)")
                  + ", "
                  + pending
                  + " pending"
                  + (round.lastError == null ? "" : "; last error: " + round.lastError);
            });
  }

  /** One batch of due mails, then the next while the server takes them. */
  private Mono<Void> batches(Round round, int n) {
    // The batch is read whole first: no result set stays open while the server is slow.
    return outbox
        .due(Rows.now(), BATCH)
        .collectList()
        .flatMapMany(Flux::fromIterable)
        .concatMap(mail -> attempt(mail, round))
        .takeUntil(serverFailed -> serverFailed)
        .collectList()
        .flatMap(
            outcomes -> {
              boolean stop = outcomes.isEmpty() || outcomes.contains(true) || n >= MAX_BATCHES;
              return stop ? Mono.empty() : batches(round, n + 1);
            });
  }

  /** Sends one mail and records the outcome; emits whether the server itself failed. */
  private Mono<Boolean> attempt(OutboxMail mail, Round round) {
    return transport
        .send(mail)
        .then(Mono.<Optional<Throwable>>just(Optional.empty()))
        .onErrorResume(e -> Mono.just(Optional.of(e)))
        .flatMap(
            failure -> {
              if (failure.isEmpty()) {
                return outbox.sent(mail, Rows.now()).then(Mono.fromSupplier(round::sent));
              }
              Throwable e = failure.get();
              String error = transport.describe(e);
              log.warn(
                  "mail {} ({}) to {}: attempt {} failed: {}",
                  mail.id(),
                  mail.template(),
                  mail.recipient(),
                  mail.attempts() + 1,
                  error);
              return outbox
                  .failed(mail, error, Rows.now())
                  .map(
                      givenUp ->
                          round.failed(error, givenUp, SmtpTransport.concernsOnlyThisMail(e)));
            });
  }

  /** What one run did, counted in the run as it goes. */
  private static final class Round {
    private final JobContext run;
    long sent;
    long failed;
    long gaveUp;
    String lastError;

    Round(JobContext run) {
      this.run = run;
      run.add("sent", 0);
      run.add("failed", 0);
      run.add("gaveUp", 0);
    }

    /** A mail went; emits false (the server works). */
    boolean sent() {
      sent++;
      run.add("sent", 1);
      return false;
    }

    /** A mail failed; returns whether the server did (the round stops). */
    boolean failed(String error, boolean givenUp, boolean onlyThisMail) {
      failed++;
      run.add("failed", 1);
      if (givenUp) {
        gaveUp++;
        run.add("gaveUp", 1);
      }
      lastError = error;
      return !onlyThisMail;
    }
  }
}
