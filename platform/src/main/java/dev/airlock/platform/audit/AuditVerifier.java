package dev.airlock.platform.audit;

import dev.airlock.platform.api.model.AuditVerification;
import dev.airlock.platform.database.Rows;
import java.time.LocalDateTime;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * Walks the audit log from its first event, recomputing each hash; reports the first event whose
 * content, link to its predecessor, or sequence number does not match, and a chain whose end does
 * not reach the recorded head (events removed from the end).
 */
final class AuditVerifier {

  private final DatabaseClient db;

  AuditVerifier(DatabaseClient db) {
    this.db = db;
  }

  Mono<AuditVerification> verify() {
    Mono<long[]> head =
        db.sql("SELECT last_seq FROM audit_head WHERE id = 1")
            .map(row -> new long[] {row.get(0, Long.class)})
            .one();
    return db.sql("SELECT * FROM audit_events ORDER BY seq")
        .map(
            row -> {
              long seq = row.get("seq", Long.class);
              String id = row.get("id", String.class);
              String computed =
                  AuditChain.hash(
                      row.get("prev_hash", String.class),
                      seq,
                      id,
                      Rows.instant(row.get("occurred_at", LocalDateTime.class)),
                      row.get("actor", String.class),
                      row.get("actor_id", String.class),
                      row.get("action", String.class),
                      row.get("target_kind", String.class),
                      row.get("target", String.class),
                      row.get("outcome", String.class),
                      row.get("reason", String.class),
                      row.get("source_address", String.class));
              return new Link(
                  seq,
                  id,
                  row.get("prev_hash", String.class),
                  row.get("hash", String.class),
                  computed);
            })
        .all()
        .reduce(
            new State(0, AuditChain.GENESIS, 0, null),
            (state, link) -> {
              if (state.bad() != null) {
                return state;
              }
              String problem = null;
              if (link.seq() != state.lastSeq() + 1) {
                problem =
                    "events missing before this one (expected seq " + (state.lastSeq() + 1) + ")";
              } else if (!link.prev().equals(state.lastHash())) {
                problem = "its link does not match the previous event's hash";
              } else if (!link.stored().equals(link.computed())) {
                problem = "its content does not match its hash (altered)";
              }
              if (problem != null) {
                return new State(
                    state.lastSeq(),
                    state.lastHash(),
                    state.checked() + 1,
                    new Bad(link.seq(), link.id(), problem));
              }
              return new State(link.seq(), link.stored(), state.checked() + 1, null);
            })
        .zipWith(head)
        .map(
            pair -> {
              State state = pair.getT1();
              long headSeq = pair.getT2()[0];
              AuditVerification result =
                  new AuditVerification(state.bad() == null, state.checked());
              if (state.bad() != null) {
                result.setFirstBadSeq(state.bad().seq());
                result.setFirstBadId(UUID.fromString(state.bad().id()));
                result.setReason("Event " + state.bad().seq() + ": " + state.bad().reason());
              } else if (state.lastSeq() != headSeq) {
                result.setValid(false);
                result.setFirstBadSeq(state.lastSeq() + 1);
                result.setReason(
                    "The log ends at event "
                        + state.lastSeq()
                        + " but "
                        + headSeq
                        + " were written (events removed from the end)");
              }
              return result;
            });
  }

  private record Link(long seq, String id, String prev, String stored, String computed) {}

  private record Bad(long seq, String id, String reason) {}

  private record State(long lastSeq, String lastHash, long checked, Bad bad) {}
}
