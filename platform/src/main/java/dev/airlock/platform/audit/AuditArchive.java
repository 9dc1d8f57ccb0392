package dev.airlock.platform.audit;

import dev.airlock.platform.database.Rows;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code audit_archive} table: batches of consecutive events that left the live log. Batches
 * never change once written (a trigger refuses updates); they are deleted, oldest first, by archive
 * retention.
 */
@Component
class AuditArchive {

  private static final String DESCRIPTION =
      "id, first_seq, last_seq, first_at, last_at, events, prev_hash, last_hash, content_hash,"
          + " OCTET_LENGTH(data) AS bytes, created_at";

  private final DatabaseClient db;

  AuditArchive(DatabaseClient db) {
    this.db = db;
  }

  /** The highest archived seq, or 0 when the archive is empty. */
  Mono<Long> lastSeq() {
    return db.sql("SELECT COALESCE(MAX(last_seq), 0) AS s FROM audit_archive")
        .map(row -> row.get("s", Long.class))
        .one();
  }

  /**
   * The first batch holding events after {@code afterSeq} whose time range meets {@code [from, to)}
   * (either may be null), with its data.
   */
  Mono<ArchiveBatch> next(long afterSeq, Instant from, Instant to) {
    return batch("last_seq > :seq", afterSeq, from, to, "first_seq");
  }

  /**
   * The last batch holding events before {@code beforeSeq} whose time range meets {@code [from,
   * to)} (either may be null), with its data.
   */
  Mono<ArchiveBatch> previous(long beforeSeq, Instant from, Instant to) {
    return batch("first_seq < :seq", beforeSeq, from, to, "first_seq DESC");
  }

  private Mono<ArchiveBatch> batch(
      String position, long seq, Instant from, Instant to, String order) {
    List<String> where = new ArrayList<>(List.of(position));
    if (from != null) {
      where.add("last_at >= :from");
    }
    if (to != null) {
      where.add("first_at < :to");
    }
    var query =
        db.sql(
                "SELECT * FROM audit_archive WHERE "
                    + String.join(" AND ", where)
                    + " ORDER BY "
                    + order
                    + " LIMIT 1")
            .bind("seq", seq);
    if (from != null) {
      query = query.bind("from", Rows.column(from));
    }
    if (to != null) {
      query = query.bind("to", Rows.column(to));
    }
    return query.map(row -> ArchiveBatch.of(row, true)).one();
  }

  /** Batches (without their data) that start before {@code beforeSeq}, newest first. */
  Flux<ArchiveBatch> page(long beforeSeq, int limit) {
    return db.sql(
            "SELECT "
                + DESCRIPTION
                + " FROM audit_archive WHERE first_seq < :before ORDER BY first_seq DESC LIMIT"
                + " :limit")
        .bind("before", beforeSeq)
        .bind("limit", limit)
        .map(row -> ArchiveBatch.of(row, false))
        .all();
  }

  /** The oldest batch (without its data), if its newest event is older than {@code cutoff}. */
  Mono<ArchiveBatch> oldestBefore(Instant cutoff) {
    return db.sql(
            "SELECT "
                + DESCRIPTION
                + " FROM audit_archive WHERE first_seq = (SELECT MIN(first_seq) FROM"
                + " audit_archive) AND last_at < :cutoff")
        .bind("cutoff", Rows.column(cutoff))
        .map(row -> ArchiveBatch.of(row, false))
        .one();
  }

  /** Writes a batch of {@code events} (consecutive, in seq order). */
  Mono<Void> insert(List<StoredEvent> events, ArchiveBatch.Packed packed) {
    StoredEvent first = events.get(0);
    StoredEvent last = events.get(events.size() - 1);
    Instant firstAt = first.time();
    Instant lastAt = first.time();
    for (StoredEvent event : events) {
      firstAt = event.time().isBefore(firstAt) ? event.time() : firstAt;
      lastAt = event.time().isAfter(lastAt) ? event.time() : lastAt;
    }
    return db.sql(
            "INSERT INTO audit_archive (first_seq, last_seq, first_at, last_at, events, prev_hash,"
                + " last_hash, content_hash, data, created_at) VALUES (:first, :last, :firstAt,"
                + " :lastAt, :events, :prev, :lastHash, :contentHash, :data, :now)")
        .bind("first", first.seq())
        .bind("last", last.seq())
        .bind("firstAt", Rows.column(firstAt))
        .bind("lastAt", Rows.column(lastAt))
        .bind("events", events.size())
        .bind("prev", first.prevHash())
        .bind("lastHash", last.hash())
        .bind("contentHash", packed.contentHash())
        .bind("data", packed.data())
        .bind("now", Rows.column(Rows.now()))
        .then();
  }

  /** Deletes the batch {@code id}; emits how many rows went (1, or 0 if it was gone). */
  Mono<Long> delete(long id) {
    return db.sql("DELETE FROM audit_archive WHERE id = :id").bind("id", id).fetch().rowsUpdated();
  }
}
