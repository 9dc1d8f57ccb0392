package dev.airlock.platform.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Reads the audit log in chain order across its two homes: the archive's batches (older events) and
 * the live table (the rest). Reads go a batch or a chunk at a time, so memory stays bounded however
 * long the log is.
 */
@Component
class AuditReader {

  /** Live events read per query when walking the log. */
  static final int CHUNK = 1000;

  private final DatabaseClient db;
  private final AuditArchive archive;

  AuditReader(DatabaseClient db, AuditArchive archive) {
    this.db = db;
    this.archive = archive;
  }

  /**
   * The log after {@code afterSeq}, oldest first, as archive batches (whole, decoded) and then
   * chunks of live events. Only batches and live events in {@code [from, to)} are read (either may
   * be null); archived events still need {@link AuditFilter#test} for the time range.
   *
   * <p>Safe beside a running archive job without a transaction: a live chunk is used only if no
   * events after its start were archived meanwhile, else the walk goes back to the archive.
   */
  Flux<Chunk> ascending(long afterSeq, Instant from, Instant to) {
    return Flux.defer(
        () -> {
          AtomicLong position = new AtomicLong(afterSeq);
          AtomicBoolean more = new AtomicBoolean(true);
          return Mono.defer(() -> step(position.get(), from, to))
              .doOnNext(
                  step -> {
                    position.set(step.position());
                    more.set(!step.end());
                  })
              .repeat(more::get)
              .filter(step -> step.chunk() != null)
              .concatMap(step -> step.chunk(), 1);
        });
  }

  private Mono<Step> step(long position, Instant from, Instant to) {
    return archive
        .lastSeq()
        .flatMap(
            archived -> {
              if (archived > position) {
                return archive
                    .next(position, from, to)
                    .map(batch -> new Step(batch.lastSeq(), decode(batch), false))
                    // Nothing archived after here meets [from, to): skip to the archive's end.
                    .defaultIfEmpty(new Step(archived, null, false));
              }
              return live(position, from, to)
                  .flatMap(
                      events ->
                          archive
                              .lastSeq()
                              .map(
                                  nowArchived -> {
                                    if (nowArchived > position) {
                                      // Moved to the archive while we read: read it from there.
                                      return new Step(position, null, false);
                                    }
                                    if (events.isEmpty()) {
                                      return new Step(position, null, true);
                                    }
                                    return new Step(
                                        events.get(events.size() - 1).seq(),
                                        Mono.just(new Chunk(null, events, null, null)),
                                        false);
                                  }));
            });
  }

  private Mono<List<StoredEvent>> live(long afterSeq, Instant from, Instant to) {
    List<String> where = new ArrayList<>(List.of("seq > :after"));
    Map<String, Object> binds = new LinkedHashMap<>();
    binds.put("after", afterSeq);
    new AuditFilter(from, to, null, null, null).addTo(where, binds);
    var query =
        db.sql(
            "SELECT * FROM audit_events WHERE "
                + String.join(" AND ", where)
                + " ORDER BY seq LIMIT "
                + CHUNK);
    for (var bind : binds.entrySet()) {
      query = query.bind(bind.getKey(), bind.getValue());
    }
    return query.map(StoredEvent::of).all().collectList();
  }

  /**
   * Events before {@code beforeSeq} that pass {@code filter}, newest first: live events, then
   * archived ones batch by batch. Read inside a transaction so both parts come from one snapshot
   * (an archive run between them would otherwise show events twice).
   */
  Flux<StoredEvent> descending(long beforeSeq, AuditFilter filter, int limit) {
    List<String> where = new ArrayList<>(List.of("seq < :before"));
    Map<String, Object> binds = new LinkedHashMap<>();
    binds.put("before", beforeSeq);
    filter.addTo(where, binds);
    var query =
        db.sql(
            "SELECT * FROM audit_events WHERE "
                + String.join(" AND ", where)
                + " ORDER BY seq DESC LIMIT :limit");
    for (var bind : binds.entrySet()) {
      query = query.bind(bind.getKey(), bind.getValue());
    }
    Flux<StoredEvent> live = query.bind("limit", limit).map(StoredEvent::of).all();
    Flux<StoredEvent> archived =
        Flux.defer(
            () -> {
              AtomicLong bound = new AtomicLong(beforeSeq);
              AtomicBoolean more = new AtomicBoolean(true);
              return Mono.defer(() -> archive.previous(bound.get(), filter.from(), filter.to()))
                  .doOnNext(batch -> bound.set(batch.firstSeq()))
                  .switchIfEmpty(Mono.fromRunnable(() -> more.set(false)))
                  .repeat(more::get)
                  .concatMap(AuditReader::decode, 1)
                  .concatMapIterable(
                      chunk -> {
                        chunk.requireReadable();
                        List<StoredEvent> matching = new ArrayList<>();
                        for (int i = chunk.events().size() - 1; i >= 0; i--) {
                          StoredEvent event = chunk.events().get(i);
                          if (event.seq() < beforeSeq && filter.test(event)) {
                            matching.add(event);
                          }
                        }
                        return matching;
                      },
                      1);
            });
    return live.concatWith(archived).take(limit);
  }

  /** A batch's events, decoded off the event loop (decompressing is CPU work). */
  private static Mono<Chunk> decode(ArchiveBatch batch) {
    return Mono.fromCallable(
            () -> {
              try {
                ArchiveBatch.Contents contents = batch.contents();
                return new Chunk(batch, contents.events(), contents.contentHash(), null);
              } catch (ArchiveBatch.Unreadable e) {
                return new Chunk(batch, List.of(), null, e.getMessage());
              }
            })
        .subscribeOn(Schedulers.parallel());
  }

  /**
   * A piece of the log: an archive batch with its decoded events (or why they cannot be read), or
   * live events ({@code batch} null).
   *
   * @param contentHash the SHA-256 of the batch's uncompressed data, as read now
   * @param unreadable why the batch's data cannot be decoded, or null
   */
  record Chunk(
      ArchiveBatch batch, List<StoredEvent> events, String contentHash, String unreadable) {

    /** Fails when this is an archive batch whose data cannot be decoded. */
    void requireReadable() {
      if (unreadable != null) {
        throw new IllegalStateException(
            "Archive batch "
                + batch.id()
                + " (events "
                + batch.firstSeq()
                + ".."
                + batch.lastSeq()
                + ") cannot be read: "
                + unreadable
                + "; GET /api/v1/audit/verification reports the damage");
      }
    }
  }

  private record Step(long position, Mono<Chunk> chunk, boolean end) {}
}
