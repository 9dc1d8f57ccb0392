package dev.airlock.platform.audit;

import dev.airlock.platform.database.Rows;
import java.time.Instant;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * Appends events to the audit log. An append joins the caller's transaction when there is one, so
 * an event is written if and only if the change it records is; it locks the chain's head row, so
 * events get gap-free sequence numbers across every platform replica.
 */
@Component
public class AuditLog {

  private final DatabaseClient db;
  private final TransactionalOperator tx;

  public AuditLog(DatabaseClient db, TransactionalOperator tx) {
    this.db = db;
    this.tx = tx;
  }

  /** Appends {@code record}; completes when it is written (or the surrounding transaction is). */
  public Mono<Void> append(AuditRecord record) {
    Mono<Void> append =
        db.sql("SELECT last_seq, last_hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .map((row, meta) -> new Head(row.get("last_seq", Long.class), row.get(1, String.class)))
            .one()
            .flatMap(head -> insert(head, record));
    return tx.transactional(append);
  }

  private Mono<Void> insert(Head head, AuditRecord r) {
    long seq = head.seq() + 1;
    String id = UUID.randomUUID().toString();
    Instant time = Rows.now();
    String outcome = r.outcome().getValue();
    String hash =
        AuditChain.hash(
            head.hash(),
            seq,
            id,
            time,
            r.actor(),
            r.actorId(),
            r.action(),
            r.targetKind(),
            r.target(),
            outcome,
            r.reason(),
            r.sourceAddress());
    var insert =
        db.sql(
                "INSERT INTO audit_events (seq, id, occurred_at, actor, actor_id, action,"
                    + " target_kind, target, outcome, reason, source_address, prev_hash, hash)"
                    + " VALUES (:seq, :id, :time, :actor, :actorId, :action, :targetKind, :target,"
                    + " :outcome, :reason, :source, :prev, :hash)")
            .bind("seq", seq)
            .bind("id", id)
            .bind("time", Rows.column(time))
            .bind("actor", r.actor())
            .bind("action", r.action())
            .bind("outcome", outcome)
            .bind("prev", head.hash())
            .bind("hash", hash);
    insert = Rows.bind(insert, "actorId", r.actorId(), String.class);
    insert = Rows.bind(insert, "targetKind", r.targetKind(), String.class);
    insert = Rows.bind(insert, "target", r.target(), String.class);
    insert = Rows.bind(insert, "reason", r.reason(), String.class);
    insert = Rows.bind(insert, "source", r.sourceAddress(), String.class);
    return insert
        .then()
        .then(
            db.sql("UPDATE audit_head SET last_seq = :seq, last_hash = :hash WHERE id = 1")
                .bind("seq", seq)
                .bind("hash", hash)
                .then());
  }

  private record Head(long seq, String hash) {}
}
