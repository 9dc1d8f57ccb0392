package dev.airlock.platform.audit;

import dev.airlock.platform.api.model.AuditVerification;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * Walks the audit log in chain order, through the archive's batches and on into the live table,
 * recomputing each event's hash; reports the first event whose content, link to its predecessor, or
 * sequence number does not match, a batch whose data does not match its content hash or whose
 * recorded ends do not match its events, and a chain whose end does not reach the recorded head
 * (events removed from the end). When archive retention deleted batches, the walk starts at the
 * recorded {@code purged_seq} and {@code purged_hash}.
 *
 * <p>It reads in one transaction, so the archive job moving events meanwhile changes nothing that
 * it sees.
 */
@Component
class AuditVerifier {

  private final DatabaseClient db;
  private final TransactionalOperator tx;
  private final AuditReader reader;

  AuditVerifier(DatabaseClient db, TransactionalOperator tx, AuditReader reader) {
    this.db = db;
    this.tx = tx;
    this.reader = reader;
  }

  Mono<AuditVerification> verify() {
    Mono<AuditVerification> walk =
        db.sql("SELECT last_seq, purged_seq, purged_hash FROM audit_head WHERE id = 1")
            .map(
                row ->
                    new Head(
                        row.get("last_seq", Long.class),
                        row.get("purged_seq", Long.class),
                        row.get("purged_hash", String.class)))
            .one()
            .flatMap(
                head -> {
                  State start = new State(head.purgedSeq(), head.purgedHash(), 0, 0, null);
                  return reader
                      .ascending(head.purgedSeq(), null, null)
                      .scan(start, AuditVerifier::check)
                      .takeUntil(state -> state.bad() != null)
                      .last(start)
                      .map(state -> result(head, state));
                });
    return tx.transactional(walk);
  }

  private static State check(State state, AuditReader.Chunk chunk) {
    ArchiveBatch batch = chunk.batch();
    if (batch == null) {
      return events(state, chunk, null);
    }
    String label =
        "archive batch "
            + batch.id()
            + " (events "
            + batch.firstSeq()
            + ".."
            + batch.lastSeq()
            + ")";
    String capital = Character.toUpperCase(label.charAt(0)) + label.substring(1);
    if (chunk.unreadable() != null) {
      return state.fail(
          batch.firstSeq(), null, capital + ": its data cannot be read, " + chunk.unreadable());
    }
    if (batch.firstSeq() != state.lastSeq() + 1) {
      return state.fail(
          state.lastSeq() + 1, null, capital + ": " + gap(state.lastSeq(), batch.firstSeq()));
    }
    if (!batch.prevHash().equals(state.lastHash())) {
      return state.fail(
          batch.firstSeq(), null, capital + ": its link does not match the previous event's hash");
    }
    State after = events(state, chunk, label);
    if (after.bad() != null) {
      return after;
    }
    if (!batch.contentHash().equals(chunk.contentHash())) {
      return state.fail(
          batch.firstSeq(), null, capital + ": its data does not match its content hash (altered)");
    }
    if (chunk.events().size() != batch.events()
        || after.lastSeq() != batch.lastSeq()
        || !after.lastHash().equals(batch.lastHash())) {
      return state.fail(
          batch.firstSeq(),
          null,
          capital
              + ": its recorded end (event "
              + batch.lastSeq()
              + ", "
              + batch.events()
              + " events) does not match the events it holds");
    }
    return new State(
        after.lastSeq(),
        after.lastHash(),
        after.checked(),
        state.archivedChecked() + chunk.events().size(),
        null);
  }

  /** Checks consecutive events; {@code batch} names the archive batch they came from, or null. */
  private static State events(State state, AuditReader.Chunk chunk, String batch) {
    long lastSeq = state.lastSeq();
    String lastHash = state.lastHash();
    long checked = state.checked();
    for (StoredEvent event : chunk.events()) {
      String problem = null;
      if (event.seq() != lastSeq + 1) {
        problem = gap(lastSeq, event.seq());
      } else if (!event.prevHash().equals(lastHash)) {
        problem = "its link does not match the previous event's hash";
      } else if (!event.hash().equals(event.computedHash())) {
        problem = "its content does not match its hash (altered)";
      }
      checked++;
      if (problem != null) {
        String where = batch == null ? "" : " (in " + batch + ")";
        return new State(
            lastSeq,
            lastHash,
            checked,
            state.archivedChecked(),
            new Bad(
                event.seq() == lastSeq + 1 ? event.seq() : lastSeq + 1,
                event.seq() == lastSeq + 1 ? event.id() : null,
                "Event " + event.seq() + where + ": " + problem));
      }
      lastSeq = event.seq();
      lastHash = event.hash();
    }
    return new State(lastSeq, lastHash, checked, state.archivedChecked(), null);
  }

  private static String gap(long lastSeq, long seq) {
    return seq > lastSeq + 1
        ? "events " + (lastSeq + 1) + ".." + (seq - 1) + " are missing before it"
        : "it repeats event " + seq + " (the chain had reached " + lastSeq + ")";
  }

  private static AuditVerification result(Head head, State state) {
    AuditVerification result = new AuditVerification(state.bad() == null, state.checked());
    result.setArchivedChecked(state.archivedChecked());
    result.setFirstSeq(head.purgedSeq() + 1);
    if (state.bad() != null) {
      result.setFirstBadSeq(state.bad().seq());
      if (state.bad().id() != null) {
        result.setFirstBadId(UUID.fromString(state.bad().id()));
      }
      result.setReason(state.bad().reason());
    } else if (state.lastSeq() != head.lastSeq()) {
      result.setValid(false);
      result.setFirstBadSeq(state.lastSeq() + 1);
      result.setReason(
          "The log ends at event "
              + state.lastSeq()
              + " but "
              + head.lastSeq()
              + " were written (events removed from the end)");
    }
    return result;
  }

  private record Head(long lastSeq, long purgedSeq, String purgedHash) {}

  private record Bad(long seq, String id, String reason) {}

  private record State(long lastSeq, String lastHash, long checked, long archivedChecked, Bad bad) {
    State fail(long seq, String id, String reason) {
      return new State(lastSeq, lastHash, checked, archivedChecked, new Bad(seq, id, reason));
    }
  }
}
