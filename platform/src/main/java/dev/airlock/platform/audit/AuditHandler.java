package dev.airlock.platform.audit;

import dev.airlock.platform.api.AuditApi;
import dev.airlock.platform.api.model.AuditArchiveBatch;
import dev.airlock.platform.api.model.AuditArchivePage;
import dev.airlock.platform.api.model.AuditEvent;
import dev.airlock.platform.api.model.AuditEventPage;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.AuditVerification;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.web.Cursors;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Serves the audit log: filtered, cursor-paginated queries (newest first) across the live log and
 * the archive, the streaming export (oldest first, JSON lines), the archive's batches, and
 * verification.
 */
@RestController
public class AuditHandler implements AuditApi {

  private final AuditReader reader;
  private final AuditArchive archive;
  private final AuditVerifier verifier;
  private final TransactionalOperator tx;
  private final Access access;

  AuditHandler(
      AuditReader reader,
      AuditArchive archive,
      AuditVerifier verifier,
      TransactionalOperator tx,
      Access access) {
    this.reader = reader;
    this.archive = archive;
    this.verifier = verifier;
    this.tx = tx;
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
    AuditFilter filter =
        new AuditFilter(
            instant(from), instant(to), actor, action, outcome == null ? null : outcome.getValue());
    return access
        .require(exchange, Map.of(), null, null)
        .thenMany(tx.transactional(reader.descending(before, filter, limit + 1)))
        .collectList()
        .map(
            events -> {
              var page = Cursors.page(events, limit, StoredEvent::seq);
              AuditEventPage result =
                  new AuditEventPage(page.rows().stream().map(StoredEvent::toApi).toList());
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<Flux<AuditEvent>>> exportAuditEvents(
      OffsetDateTime from, OffsetDateTime to, Long afterSeq, ServerWebExchange exchange) {
    if (from != null && to != null && !from.isBefore(to)) {
      return Mono.error(ApiProblem.validation("from", "must be before 'to'"));
    }
    long after = afterSeq == null ? 0 : afterSeq;
    AuditFilter filter = new AuditFilter(instant(from), instant(to), null, null, null);
    Flux<AuditEvent> events =
        reader
            .ascending(after, filter.from(), filter.to())
            .concatMapIterable(
                chunk -> {
                  chunk.requireReadable();
                  return chunk.events().stream()
                      .filter(event -> event.seq() > after && filter.test(event))
                      .map(StoredEvent::toApi)
                      .toList();
                },
                1);
    return access
        .require(exchange, Map.of(), null, null)
        .thenReturn(ResponseEntity.ok().contentType(MediaType.APPLICATION_NDJSON).body(events));
  }

  @Override
  public Mono<ResponseEntity<AuditArchivePage>> listAuditArchive(
      Integer limit, String cursor, ServerWebExchange exchange) {
    long before = Cursors.decode(cursor, Long.MAX_VALUE);
    return access
        .require(exchange, Map.of(), null, null)
        .thenMany(archive.page(before, limit + 1))
        .collectList()
        .map(
            batches -> {
              var page = Cursors.page(batches, limit, ArchiveBatch::firstSeq);
              List<AuditArchiveBatch> items =
                  page.rows().stream().map(ArchiveBatch::toApi).toList();
              AuditArchivePage result = new AuditArchivePage(items);
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<AuditVerification>> verifyAuditChain(ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, null)
        .then(verifier.verify())
        .map(ResponseEntity::ok);
  }

  private static Instant instant(OffsetDateTime time) {
    return time == null ? null : time.toInstant();
  }
}
