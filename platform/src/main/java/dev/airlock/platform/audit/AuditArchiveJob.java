package dev.airlock.platform.audit;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The {@code audit-archive} job. It moves events older than {@code airlock.audit.retention} out of
 * the live log into compressed archive batches, oldest first, {@code airlock.audit.batch-size} at a
 * time; then it deletes batches whose newest event is older than {@code
 * airlock.audit.archive-retention} (unless that is 0), oldest first, and audits each deletion.
 *
 * <p>Each batch is one transaction: the batch row is written and exactly its events are deleted, or
 * neither happens. Killed at any point, a run loses and duplicates nothing; the next run goes on
 * from the oldest event still live. A deleted batch moves the chain's verified start ({@code
 * audit_head.purged_seq} and {@code purged_hash}) in the same transaction.
 */
@Component
public class AuditArchiveJob implements Job {

  static final String NAME = "audit-archive";

  private final DatabaseClient db;
  private final TransactionalOperator tx;
  private final AuditLog log;
  private final AuditArchive archive;
  private final AirlockProperties.Audit settings;
  private final Clock clock;

  @Autowired
  AuditArchiveJob(
      DatabaseClient db,
      TransactionalOperator tx,
      AuditLog log,
      AuditArchive archive,
      AirlockProperties properties) {
    this(db, tx, log, archive, properties.audit(), Clock.systemUTC());
  }

  /** A job whose idea of now is {@code clock} (retention is measured back from it). */
  AuditArchiveJob(
      DatabaseClient db,
      TransactionalOperator tx,
      AuditLog log,
      AuditArchive archive,
      AirlockProperties.Audit settings,
      Clock clock) {
    this.db = db;
    this.tx = tx;
    this.log = log;
    this.archive = archive;
    this.settings = settings;
    this.clock = clock;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "Moves audit events older than airlock.audit.retention into compressed archive batches"
        + " and deletes batches older than airlock.audit.archive-retention (audited).";
  }

  @Override
  public String defaultCron() {
    return "0 15 3 * * *";
  }

  @Override
  public Mono<String> run(JobContext run) {
    Instant now = clock.instant();
    Instant archiveBefore = now.minus(settings.retention());
    run.add("archived", 0);
    run.add("batches", 0);
    run.add("purged", 0);
    run.add("purgedEvents", 0);
    AtomicLong archived = new AtomicLong();
    AtomicLong batches = new AtomicLong();
    AtomicLong purged = new AtomicLong();
    AtomicLong purgedEvents = new AtomicLong();
    Mono<Void> archiving =
        archiveBatch(archiveBefore)
            // One batch after another until none is left; never cancelled mid-transaction.
            .expand(events -> events > 0 ? archiveBatch(archiveBefore) : Mono.empty())
            .filter(events -> events > 0)
            .doOnNext(
                events -> {
                  archived.addAndGet(events);
                  batches.incrementAndGet();
                  run.add("archived", events);
                  run.add("batches", 1);
                })
            .then();
    Mono<Void> purging = Mono.empty();
    if (!settings.archiveRetention().isZero()) {
      Instant purgeBefore = now.minus(settings.archiveRetention());
      purging =
          purgeBatch(purgeBefore)
              .expand(events -> events > 0 ? purgeBatch(purgeBefore) : Mono.empty())
              .filter(events -> events > 0)
              .doOnNext(
                  events -> {
                    purged.incrementAndGet();
                    purgedEvents.addAndGet(events);
                    run.add("purged", 1);
                    run.add("purgedEvents", events);
                  })
              .then();
    }
    return archiving
        .then(purging)
        .then(
            Mono.fromSupplier(
                () -> summary(archived.get(), batches.get(), purged.get(), purgedEvents.get())));
  }

  /**
   * Archives the oldest live events that are older than {@code before} (at most a batch of them,
   * consecutive from the oldest live one) in one transaction; emits how many moved (0: none left).
   */
  private Mono<Integer> archiveBatch(Instant before) {
    Mono<Integer> batch =
        db.sql("SELECT * FROM audit_events ORDER BY seq LIMIT :n")
            .bind("n", settings.batchSize())
            .map(StoredEvent::of)
            .all()
            .collectList()
            .flatMap(
                oldest -> {
                  // Only a prefix: the archive and the live log must each stay one unbroken run.
                  List<StoredEvent> events = new ArrayList<>();
                  for (StoredEvent event : oldest) {
                    if (!event.time().isBefore(before)) {
                      break;
                    }
                    events.add(event);
                  }
                  if (events.isEmpty()) {
                    return Mono.just(0);
                  }
                  long first = events.get(0).seq();
                  long last = events.get(events.size() - 1).seq();
                  return Mono.fromCallable(() -> ArchiveBatch.pack(events))
                      .subscribeOn(Schedulers.parallel())
                      .flatMap(packed -> archive.insert(events, packed))
                      .then(
                          db.sql("DELETE FROM audit_events WHERE seq >= :first AND seq <= :last")
                              .bind("first", first)
                              .bind("last", last)
                              .fetch()
                              .rowsUpdated())
                      .flatMap(
                          deleted ->
                              deleted == events.size()
                                  ? Mono.just(events.size())
                                  : Mono.error(
                                      new IllegalStateException(
                                          "archiving events "
                                              + first
                                              + ".."
                                              + last
                                              + ": "
                                              + deleted
                                              + " live events deleted (expected: "
                                              + events.size()
                                              + "); nothing was changed")));
                });
    return tx.transactional(batch)
        .onErrorMap(
            e ->
                new IllegalStateException(
                    "archiving a batch failed: "
                        + e.getMessage()
                        + " (a batch is written whole or not at all; the next run goes on from the"
                        + " oldest live event)",
                    e));
  }

  /**
   * Deletes the oldest archive batch if its newest event is older than {@code before}, moves the
   * chain's verified start past it and audits that, in one transaction; emits how many events the
   * batch held (0: no batch is that old).
   */
  private Mono<Integer> purgeBatch(Instant before) {
    Mono<Integer> purge =
        db.sql("SELECT purged_seq FROM audit_head WHERE id = 1 FOR UPDATE")
            .map(row -> row.get("purged_seq", Long.class))
            .one()
            .flatMap(
                purgedSeq ->
                    archive
                        .oldestBefore(before)
                        .flatMap(batch -> purge(batch, purgedSeq))
                        .defaultIfEmpty(0));
    return tx.transactional(purge);
  }

  private Mono<Integer> purge(ArchiveBatch batch, long purgedSeq) {
    String range = batch.firstSeq() + ".." + batch.lastSeq();
    if (batch.firstSeq() != purgedSeq + 1) {
      // Deleting it would hide the gap from verification for good.
      return Mono.error(
          new IllegalStateException(
              "archive batch "
                  + batch.id()
                  + " starts at event "
                  + batch.firstSeq()
                  + " but the chain's kept part starts at "
                  + (purgedSeq + 1)
                  + ": events are missing; nothing was deleted (see GET"
                  + " /api/v1/audit/verification)"));
    }
    String reason =
        "archive batch "
            + batch.id()
            + " deleted: events "
            + range
            + " ("
            + batch.events()
            + " events, the newest from "
            + batch.lastAt()
            + ") were older than airlock.audit.archive-retention ("
            + days(settings.archiveRetention())
            + ")";
    return archive
        .delete(batch.id())
        .flatMap(
            deleted ->
                deleted == 1
                    ? Mono.empty()
                    : Mono.error(
                        new IllegalStateException(
                            "archive batch " + batch.id() + " was deleted by someone else")))
        .then(
            db.sql("UPDATE audit_head SET purged_seq = :seq, purged_hash = :hash WHERE id = 1")
                .bind("seq", batch.lastSeq())
                .bind("hash", batch.lastHash())
                .then())
        .then(
            log.append(
                new AuditRecord(
                    "system",
                    null,
                    "audit.archive_purged",
                    "audit_archive",
                    range,
                    AuditOutcome.SUCCESS,
                    reason,
                    null)))
        .thenReturn(batch.events());
  }

  private static String summary(long archived, long batches, long purged, long purgedEvents) {
    String moved =
        archived == 0
            ? "no events old enough to archive"
            : "archived " + archived + " events in " + batches + plural(" batch", batches);
    return purged == 0
        ? moved
        : moved
            + "; deleted "
            + purged
            + plural(" batch", purged)
            + " ("
            + purgedEvents
            + " events) past archive retention";
  }

  private static String plural(String noun, long n) {
    return n == 1 ? noun : noun + "es";
  }

  private static String days(Duration duration) {
    return duration.toSeconds() % 86_400 == 0
        ? duration.toDays() + "d"
        : duration.toString().substring(2).toLowerCase();
  }
}
