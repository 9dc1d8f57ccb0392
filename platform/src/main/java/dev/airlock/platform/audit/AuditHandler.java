package dev.airlock.platform.audit;

import dev.airlock.platform.api.AuditApi;
import dev.airlock.platform.api.model.AuditEvent;
import dev.airlock.platform.api.model.AuditEventPage;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.AuditVerification;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.web.Cursors;
import io.r2dbc.spi.Readable;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.ResponseEntity;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Serves the audit log: filtered, cursor-paginated queries (newest first) and verification. */
@RestController
public class AuditHandler implements AuditApi {

  private final DatabaseClient db;
  private final Access access;

  public AuditHandler(DatabaseClient db, Access access) {
    this.db = db;
    this.access = access;
  }

  @Override
  public Mono<ResponseEntity<AuditEventPage>> listAuditEvents(
      OffsetDateTime from,
      OffsetDateTime to,
      String actor,
      String action,
      AuditOutcome outcome,
      Integer limit,
      String cursor,
      ServerWebExchange exchange) {
    long before = Cursors.decode(cursor, Long.MAX_VALUE);
    if (from != null && to != null && !from.isBefore(to)) {
      return Mono.error(ApiProblem.validation("from", "must be before 'to'"));
    }
    List<String> where = new ArrayList<>(List.of("seq < :before"));
    Map<String, Object> binds = new LinkedHashMap<>();
    binds.put("before", before);
    if (from != null) {
      where.add("occurred_at >= :from");
      binds.put("from", Rows.column(from.toInstant()));
    }
    if (to != null) {
      where.add("occurred_at < :to");
      binds.put("to", Rows.column(to.toInstant()));
    }
    if (actor != null) {
      where.add("actor = :actor");
      binds.put("actor", actor);
    }
    if (action != null) {
      where.add("action = :action");
      binds.put("action", action);
    }
    if (outcome != null) {
      where.add("outcome = :outcome");
      binds.put("outcome", outcome.getValue());
    }
    var query =
        db.sql(
            "SELECT * FROM audit_events WHERE "
                + String.join(" AND ", where)
                + " ORDER BY seq DESC LIMIT :limit");
    for (var bind : binds.entrySet()) {
      query = query.bind(bind.getKey(), bind.getValue());
    }
    var page = query.bind("limit", limit + 1);
    return access
        .require(exchange, Map.of(), null, null)
        .thenMany(page.map(AuditHandler::event).all())
        .collectList()
        .map(
            events -> {
              List<AuditEvent> items = events.size() > limit ? events.subList(0, limit) : events;
              AuditEventPage result = new AuditEventPage(items);
              if (events.size() > limit) {
                result.setNextCursor(Cursors.encode(items.get(items.size() - 1).getSeq()));
              }
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<AuditVerification>> verifyAuditChain(ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, null)
        .then(new AuditVerifier(db).verify())
        .map(ResponseEntity::ok);
  }

  @Override
  public Mono<ResponseEntity<reactor.core.publisher.Flux<AuditEvent>>> exportAuditEvents(
      OffsetDateTime from, OffsetDateTime to, Long afterSeq, ServerWebExchange exchange) {
    return Mono.error(new UnsupportedOperationException("the audit export is being built"));
  }

  @Override
  public Mono<ResponseEntity<dev.airlock.platform.api.model.AuditArchivePage>> listAuditArchive(
      Integer limit, String cursor, ServerWebExchange exchange) {
    return Mono.error(new UnsupportedOperationException("the audit archive is being built"));
  }

  static AuditEvent event(Readable row) {
    AuditEvent event =
        new AuditEvent(
            UUID.fromString(row.get("id", String.class)),
            row.get("seq", Long.class),
            Rows.offset(row.get("occurred_at", LocalDateTime.class)),
            row.get("actor", String.class),
            row.get("action", String.class),
            AuditOutcome.fromValue(row.get("outcome", String.class)),
            row.get("hash", String.class));
    event.setActorId(row.get("actor_id", String.class));
    event.setTargetKind(row.get("target_kind", String.class));
    event.setTarget(row.get("target", String.class));
    event.setReason(row.get("reason", String.class));
    event.setSourceAddress(row.get("source_address", String.class));
    return event;
  }
}
