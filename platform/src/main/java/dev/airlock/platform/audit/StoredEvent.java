package dev.airlock.platform.audit;

import dev.airlock.platform.api.model.AuditEvent;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.database.Rows;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.UUID;

/**
 * An audit event with every column it is stored with, in the live table or in an archive batch (one
 * JSON line each), so its hash can be recomputed wherever it lives.
 */
record StoredEvent(
    long seq,
    String id,
    Instant time,
    String actor,
    String actorId,
    String action,
    String targetKind,
    String target,
    String outcome,
    String reason,
    String sourceAddress,
    String prevHash,
    String hash) {

  /** The event in a row of {@code audit_events}. */
  static StoredEvent of(Readable row) {
    return new StoredEvent(
        row.get("seq", Long.class),
        row.get("id", String.class),
        Rows.instant(row.get("occurred_at", LocalDateTime.class)),
        row.get("actor", String.class),
        row.get("actor_id", String.class),
        row.get("action", String.class),
        row.get("target_kind", String.class),
        row.get("target", String.class),
        row.get("outcome", String.class),
        row.get("reason", String.class),
        row.get("source_address", String.class),
        row.get("prev_hash", String.class),
        row.get("hash", String.class));
  }

  /** Its hash recomputed from its content and {@link #prevHash()}, as {@link AuditLog} made it. */
  String computedHash() {
    return AuditChain.hash(
        prevHash,
        seq,
        id,
        time,
        actor,
        actorId,
        action,
        targetKind,
        target,
        outcome,
        reason,
        sourceAddress);
  }

  /** The event as the API shows it. */
  AuditEvent toApi() {
    AuditEvent event =
        new AuditEvent(
            UUID.fromString(id),
            seq,
            time.atOffset(ZoneOffset.UTC),
            actor,
            action,
            AuditOutcome.fromValue(outcome),
            hash);
    event.setActorId(actorId);
    event.setTargetKind(targetKind);
    event.setTarget(target);
    event.setReason(reason);
    event.setSourceAddress(sourceAddress);
    return event;
  }
}
