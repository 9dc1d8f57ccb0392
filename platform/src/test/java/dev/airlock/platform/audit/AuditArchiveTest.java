package dev.airlock.platform.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.PlatformTestBase;
import dev.airlock.platform.api.model.AuditArchivePage;
import dev.airlock.platform.api.model.AuditEvent;
import dev.airlock.platform.api.model.AuditEventPage;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.AuditVerification;
import dev.airlock.platform.api.model.JobOutcome;
import dev.airlock.platform.api.model.JobRun;
import dev.airlock.platform.api.model.JobRunPage;
import dev.airlock.platform.database.DatabaseUrl;
import dev.airlock.platform.job.JobRuns;
import dev.airlock.platform.job.ScheduledJobs;
import io.r2dbc.spi.ConnectionFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code audit-archive} job on the real MariaDB, and the audit API across the cut between the
 * archive and the live log.
 *
 * <p>Events are written the platform's own way ({@link AuditLog}, real times, real hashes); the
 * passing of 90 days is simulated by handing the job a clock that reads later than the events (its
 * retention is measured back from that clock). Forging old rows instead would need their hashes
 * recomputed, and old events could not sit after the recent ones this platform has already written
 * at the start of the chain (the archive always takes the oldest events first).
 */
class AuditArchiveTest extends PlatformTestBase {

  private static final Duration RETENTION = Duration.ofHours(1);

  @Autowired DatabaseClient db;
  @Autowired TransactionalOperator tx;
  @Autowired AuditLog log;
  @Autowired AuditArchive archive;
  @Autowired ConnectionFactory connections;
  @Autowired JobRuns runs;
  @Autowired AirlockProperties properties;
  @Autowired JsonMapper json;

  @Test
  void oldEventsMoveToTheArchiveNewOnesStayAndTheApiShowsBothAlike() throws Exception {
    String token = adminToken();
    String actor = "archive-" + System.nanoTime();
    append(actor, 12);
    Instant cut = cut();
    append(actor, 3);
    List<Long> mine = seqsOf(actor);
    long lastOld = mine.get(11);
    long lastNew = mine.get(14);
    long firstLive = firstLiveSeq();
    List<AuditEvent> before = upTo(lastNew, allEvents(token, "", 500));
    Instant thirdOld =
        before.stream()
            .filter(e -> e.getSeq().equals(mine.get(2)))
            .findFirst()
            .get()
            .getTime()
            .toInstant();

    JobRun run = runJob(job(cut.plus(RETENTION), 5, Duration.ZERO));

    assertThat(run.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    long moved = lastOld - firstLive + 1;
    assertThat(run.getCounts())
        .containsEntry("archived", moved)
        .containsEntry("batches", (moved + 4) / 5)
        .containsEntry("purged", 0L);
    assertThat(firstLiveSeq()).as("every old event left the live log").isEqualTo(lastOld + 1);
    assertThat(lastArchivedSeq()).isEqualTo(lastOld);

    Head head = head();
    AuditVerification verification = verify(token);
    assertThat(verification.getValid()).as("valid, with %s", verification).isTrue();
    assertThat(verification.getFirstSeq()).isEqualTo(head.purgedSeq() + 1);
    assertThat(verification.getArchivedChecked()).isEqualTo(lastOld - head.purgedSeq());
    assertThat(verification.getChecked()).isGreaterThanOrEqualTo(head.lastSeq() - head.purgedSeq());

    assertThat(upTo(lastNew, allEvents(token, "", 500)))
        .as("the same events, in the same order, with the same hashes, archived or not")
        .isEqualTo(before);
    assertThat(allEvents(token, "actor=" + actor, 4))
        .as("pages of 4 across the cut, by the same cursor")
        .extracting(AuditEvent::getSeq)
        .containsExactlyElementsOf(reversed(mine));
    assertThat(
            allEvents(
                token,
                "actor="
                    + actor
                    + "&action=test.event&outcome=success&from="
                    + thirdOld
                    + "&to="
                    + cut,
                50))
        .as("time filters reach into the archive")
        .extracting(AuditEvent::getSeq)
        .containsExactlyElementsOf(reversed(mine.subList(2, 12)));

    List<AuditEvent> exported = export(token, "");
    assertThat(exported)
        .extracting(AuditEvent::getSeq)
        .as("every kept event exactly once, in chain order")
        .containsExactlyElementsOf(
            range(head.purgedSeq() + 1, exported.get(exported.size() - 1).getSeq()));
    assertThat(exported.get(exported.size() - 1).getSeq()).isGreaterThanOrEqualTo(lastNew);
    assertThat(upTo(lastNew, exported)).isEqualTo(reversed(before));
    assertThat(export(token, "?afterSeq=" + (lastOld - 2)).get(0).getSeq())
        .as("an export resumed after a seq inside a batch")
        .isEqualTo(lastOld - 1);
    assertThat(export(token, "?from=" + thirdOld + "&to=" + cut))
        .filteredOn(e -> e.getActor().equals(actor))
        .extracting(AuditEvent::getSeq)
        .containsExactlyElementsOf(mine.subList(2, 12));

    List<Long> firstSeqs = new ArrayList<>();
    List<Long> lastSeqs = new ArrayList<>();
    String cursor = null;
    do {
      AuditArchivePage page =
          http.get()
              .uri("/api/v1/audit/archive?limit=2" + (cursor == null ? "" : "&cursor=" + cursor))
              .headers(h -> h.setBearerAuth(token))
              .exchange()
              .expectStatus()
              .isOk()
              .expectBody(AuditArchivePage.class)
              .returnResult()
              .getResponseBody();
      page.getItems()
          .forEach(
              batch -> {
                firstSeqs.add(batch.getFirstSeq());
                lastSeqs.add(batch.getLastSeq());
                assertThat(batch.getEvents()).isBetween(1, 5);
                assertThat(batch.getBytes()).isPositive();
              });
      cursor = page.getNextCursor();
    } while (cursor != null);
    assertThat(lastSeqs.get(0)).as("newest first").isEqualTo(lastOld);
    for (int i = 1; i < firstSeqs.size(); i++) {
      assertThat(lastSeqs.get(i)).as("batches adjoin").isEqualTo(firstSeqs.get(i - 1) - 1);
    }
    assertThat(firstSeqs.get(firstSeqs.size() - 1)).isEqualTo(head.purgedSeq() + 1);
  }

  @Test
  void aRunKilledInsideABatchLosesAndDuplicatesNothingAndTheNextRunFinishes() throws Exception {
    String token = adminToken();
    append("kill-" + System.nanoTime(), 15);
    Instant cut = cut();
    AuditArchiveJob job = job(cut.plus(RETENTION), 5, Duration.ZERO);
    long first = firstLiveSeq();
    long locked = first + 7; // in the run's second batch, first+5..first+9
    long archivedBefore = lastArchivedSeq();

    JobRun failed;
    try (Connection holder = jdbc();
        Connection observer = jdbc()) {
      holder.setAutoCommit(false);
      try (PreparedStatement lock =
          holder.prepareStatement("SELECT seq FROM audit_events WHERE seq = ? FOR UPDATE")) {
        lock.setLong(1, locked);
        try (ResultSet rows = lock.executeQuery()) {
          assertThat(rows.next()).as("event %d is live", locked).isTrue();
        }
      }
      CompletableFuture<Boolean> running =
          replica(job).runScheduled(AuditArchiveJob.NAME).toFuture();

      long waiting = waitingDelete(observer);
      try (Statement statement = observer.createStatement()) {
        statement.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
        try (ResultSet rows =
            statement.executeQuery(
                "SELECT COUNT(*) FROM audit_archive WHERE first_seq = " + (first + 5))) {
          rows.next();
          assertThat(rows.getLong(1))
              .as("the stuck transaction had written its batch row before its DELETE waited")
              .isEqualTo(1);
        }
        statement.execute("KILL " + waiting);
      }
      holder.rollback();
      assertThat(running.get(30, TimeUnit.SECONDS)).as("the run took the lease").isTrue();
      failed = newestRun();
    }

    assertThat(failed.getOutcome()).isEqualTo(JobOutcome.FAILED);
    assertThat(failed.getCounts())
        .as("the batch before the kill was committed, the killed one not")
        .containsEntry("archived", 5L)
        .containsEntry("batches", 1L);
    assertThat(lastArchivedSeq()).isEqualTo(first + 4);
    assertThat(firstLiveSeq())
        .as("the killed batch's events are all still live")
        .isEqualTo(first + 5);
    assertThat(lastArchivedSeq()).isGreaterThan(archivedBefore);
    assertThat(noGapsNorOverlaps()).isTrue();

    var listed =
        http.get()
            .uri("/api/v1/jobs/audit-archive/runs?limit=5")
            .headers(h -> h.setBearerAuth(token))
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(JobRunPage.class)
            .returnResult()
            .getResponseBody();
    assertThat(listed.getItems().get(0))
        .satisfies(
            run -> {
              assertThat(run.getId()).isEqualTo(failed.getId());
              assertThat(run.getOutcome()).isEqualTo(JobOutcome.FAILED);
              assertThat(run.getMessage()).startsWith("archiving a batch failed: ");
              assertThat(run.getEndedAt()).isNotNull();
            });

    JobRun again = runJob(job);

    assertThat(again.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    assertThat(again.getCounts().get("archived")).isGreaterThanOrEqualTo(10L);
    assertThat(firstLiveSeq()).isGreaterThan(locked);
    assertThat(noGapsNorOverlaps()).isTrue();
    Head head = head();
    List<Long> everySeq = new ArrayList<>(archivedSeqs());
    everySeq.addAll(
        db.sql("SELECT seq FROM audit_events WHERE seq <= :head ORDER BY seq")
            .bind("head", head.lastSeq())
            .map(row -> row.get("seq", Long.class))
            .all()
            .collectList()
            .block(Duration.ofSeconds(10)));
    assertThat(everySeq)
        .as("archive + live hold every event exactly once")
        .containsExactlyElementsOf(range(head.purgedSeq() + 1, head.lastSeq()));
    AuditVerification verification = verify(token);
    assertThat(verification.getValid()).as("valid, with %s", verification).isTrue();
    List<AuditEvent> exported = export(token, "");
    assertThat(exported.stream().filter(e -> e.getSeq() <= head.lastSeq()))
        .extracting(AuditEvent::getSeq)
        .containsExactlyElementsOf(range(head.purgedSeq() + 1, head.lastSeq()));
  }

  @Test
  void batchesPastArchiveRetentionAreDeletedAuditedAndTheChainVerifiesFromWhereItNowStarts()
      throws Exception {
    String token = adminToken();
    String actor = "purge-" + System.nanoTime();
    append(actor, 4);
    Instant oldest = cut();
    append(actor, 6);
    Instant cut = cut();
    List<Long> mine = seqsOf(actor);
    runJob(job(cut.plus(RETENTION), 3, Duration.ZERO));
    long purgedBefore = head().purgedSeq();

    // Later: the first events are past an archive retention of 1 h, the others not yet.
    JobRun run = runJob(job(oldest.plus(RETENTION), 3, RETENTION));

    assertThat(run.getOutcome()).isEqualTo(JobOutcome.SUCCEEDED);
    Head head = head();
    assertThat(head.purgedSeq())
        .as("purged up to a batch end at or before the last event older than the cut")
        .isBetween(purgedBefore + 1, mine.get(3));
    assertThat(head.purgedSeq()).as("events after the cut are kept").isLessThan(mine.get(4));
    assertThat(run.getCounts().get("purged")).isPositive();
    assertThat(run.getCounts().get("purgedEvents")).isEqualTo(head.purgedSeq() - purgedBefore);
    ArchiveBatch oldestKept =
        archive.page(Long.MAX_VALUE, 100_000).blockLast(Duration.ofSeconds(10));
    assertThat(oldestKept.firstSeq()).isEqualTo(head.purgedSeq() + 1);
    assertThat(oldestKept.lastAt()).isAfterOrEqualTo(oldest);

    List<AuditEvent> purges = allEvents(token, "action=audit.archive_purged", 500);
    assertThat(purges)
        .as("one audit event per deleted batch")
        .hasSizeGreaterThanOrEqualTo(run.getCounts().get("purged").intValue())
        .first()
        .satisfies(
            event -> {
              assertThat(event.getActor()).isEqualTo("system");
              assertThat(event.getOutcome()).isEqualTo(AuditOutcome.SUCCESS);
              assertThat(event.getTargetKind()).isEqualTo("audit_archive");
              assertThat(event.getTarget()).endsWith(".." + head.purgedSeq());
              assertThat(event.getReason())
                  .contains("events ", ".." + head.purgedSeq())
                  .contains("archive-retention");
            });

    AuditVerification verification = verify(token);
    assertThat(verification.getValid()).as("valid, with %s", verification).isTrue();
    assertThat(verification.getFirstSeq()).isEqualTo(head.purgedSeq() + 1).isGreaterThan(1);
    assertThat(verification.getChecked()).isGreaterThanOrEqualTo(head.lastSeq() - head.purgedSeq());
    assertThat(export(token, "").get(0).getSeq()).isEqualTo(head.purgedSeq() + 1);
    assertThat(allEvents(token, "actor=" + actor, 500))
        .extracting(AuditEvent::getSeq)
        .as("what was purged is gone, the rest stays queryable")
        .containsExactlyElementsOf(
            reversed(mine.stream().filter(seq -> seq > head.purgedSeq()).toList()));
  }

  @Test
  void anArchiveBatchAlteredBehindThePlatformsBackIsFound() throws Exception {
    String token = adminToken();
    String actor = "tamper-" + System.nanoTime();
    append(actor, 4);
    Instant cut = cut();
    long victim = seqsOf(actor).get(1);
    runJob(job(cut.plus(RETENTION), 4, Duration.ZERO));
    ArchiveBatch batch = archive.previous(victim + 1, null, null).block(Duration.ofSeconds(10));
    assertThat(batch.firstSeq()).isLessThanOrEqualTo(victim);
    List<StoredEvent> events = batch.contents().events();

    List<StoredEvent> forged = new ArrayList<>();
    for (StoredEvent e : events) {
      forged.add(
          e.seq() != victim
              ? e
              : new StoredEvent(
                  e.seq(),
                  e.id(),
                  e.time(),
                  e.actor(),
                  e.actorId(),
                  "user.delete",
                  e.targetKind(),
                  e.target(),
                  e.outcome(),
                  "nothing happened here",
                  e.sourceAddress(),
                  e.prevHash(),
                  e.hash()));
    }
    try (Connection dba = jdbc()) {
      try (Statement statement = dba.createStatement()) {
        statement.execute("DROP TRIGGER audit_archive_no_update");
      }
      try {
        setData(dba, batch.id(), ArchiveBatch.pack(forged).data());
        AuditVerification altered = verify(token);
        assertThat(altered.getValid()).as("valid, with %s", altered).isFalse();
        assertThat(altered.getFirstBadSeq()).isEqualTo(victim);
        assertThat(altered.getFirstBadId().toString())
            .isEqualTo(events.get((int) (victim - batch.firstSeq())).id());
        assertThat(altered.getReason())
            .contains("Event " + victim, "archive batch " + batch.id(), "altered");

        // Same events, other bytes: only the content hash tells.
        setData(dba, batch.id(), respaced(events));
        AuditVerification repacked = verify(token);
        assertThat(repacked.getValid()).isFalse();
        assertThat(repacked.getFirstBadSeq()).isEqualTo(batch.firstSeq());
        assertThat(repacked.getReason())
            .contains("Archive batch " + batch.id())
            .contains("does not match its content hash");

        setData(dba, batch.id(), new byte[] {1, 2, 3});
        assertThat(verify(token).getReason()).contains("cannot be read");
      } finally {
        setData(dba, batch.id(), batch.data());
        try (Statement statement = dba.createStatement()) {
          statement.execute(
              "CREATE TRIGGER audit_archive_no_update BEFORE UPDATE ON audit_archive FOR EACH ROW"
                  + " SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit_archive batches are"
                  + " immutable'");
        }
      }
      assertThat(verify(token).getValid()).as("restored").isTrue();
      try (PreparedStatement update =
          dba.prepareStatement("UPDATE audit_archive SET data = ? WHERE id = ?")) {
        update.setBytes(1, new byte[] {1});
        update.setLong(2, batch.id());
        assertThat(catchThrowable(update::executeUpdate))
            .as("the database refuses to change a batch")
            .isInstanceOf(SQLException.class);
      }
    }
  }

  // --- the job

  private AuditArchiveJob job(Instant now, int batchSize, Duration archiveRetention) {
    return new AuditArchiveJob(
        db,
        tx,
        log,
        archive,
        new AirlockProperties.Audit(RETENTION, archiveRetention, batchSize),
        Clock.fixed(now, ZoneOffset.UTC));
  }

  private ScheduledJobs replica(AuditArchiveJob job) {
    return new ScheduledJobs(connections, List.of(job), runs, event -> {}, properties);
  }

  /** Runs the job to its end (waiting for another run's lease if needed) and returns the run. */
  private JobRun runJob(AuditArchiveJob job) throws InterruptedException {
    ScheduledJobs replica = replica(job);
    for (int i = 0; i < 100; i++) {
      if (replica.runScheduled(AuditArchiveJob.NAME).block(Duration.ofSeconds(60))) {
        return newestRun();
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the audit-archive lease stayed taken");
  }

  private JobRun newestRun() {
    return runs.page(AuditArchiveJob.NAME, Long.MAX_VALUE, 1)
        .map(JobRuns.Page::run)
        .next()
        .block(Duration.ofSeconds(10));
  }

  /** The id of the connection whose DELETE of audit events waits for a row lock. */
  private long waitingDelete(Connection observer) throws Exception {
    String database = DatabaseUrl.parse(environment.getProperty("airlock.database.url")).database();
    Instant deadline = Instant.now().plusSeconds(4); // before the 5 s lock wait timeout
    try (PreparedStatement query =
        observer.prepareStatement(
            "SELECT t.trx_mysql_thread_id FROM information_schema.innodb_trx t JOIN"
                + " information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE"
                + " t.trx_state = 'LOCK WAIT' AND p.db = ? AND t.trx_query LIKE 'DELETE FROM"
                + " audit_events%'")) {
      query.setString(1, database);
      while (Instant.now().isBefore(deadline)) {
        try (ResultSet rows = query.executeQuery()) {
          if (rows.next()) {
            return rows.getLong(1);
          }
        }
        // InnoDB refreshes this table's cache only when it was not read for 0.1 s.
        Thread.sleep(200);
      }
    }
    throw new AssertionError("the job's DELETE never waited for the locked event");
  }

  // --- events and the database

  private void append(String actor, int n) {
    for (int i = 0; i < n; i++) {
      log.append(
              new AuditRecord(
                  actor,
                  null,
                  "test.event",
                  "test",
                  actor + "-" + i,
                  AuditOutcome.SUCCESS,
                  "event " + i,
                  "127.0.0.1"))
          .block(Duration.ofSeconds(10));
    }
  }

  /** An instant strictly after every event so far and before every event to come. */
  private static Instant cut() throws InterruptedException {
    Thread.sleep(5);
    Instant cut = Instant.now().truncatedTo(ChronoUnit.MICROS);
    Thread.sleep(5);
    return cut;
  }

  private List<Long> seqsOf(String actor) {
    return db.sql("SELECT seq FROM audit_events WHERE actor = :actor ORDER BY seq")
        .bind("actor", actor)
        .map(row -> row.get("seq", Long.class))
        .all()
        .collectList()
        .block(Duration.ofSeconds(10));
  }

  private long firstLiveSeq() {
    // With every event archived, where the next one will be.
    return db.sql(
            "SELECT COALESCE(MIN(seq), (SELECT last_seq + 1 FROM audit_head WHERE id = 1)) AS s"
                + " FROM audit_events")
        .map(row -> row.get("s", Long.class))
        .one()
        .block(Duration.ofSeconds(10));
  }

  private long lastArchivedSeq() {
    return archive.lastSeq().block(Duration.ofSeconds(10));
  }

  private Head head() {
    return db.sql("SELECT last_seq, purged_seq FROM audit_head WHERE id = 1")
        .map(row -> new Head(row.get("last_seq", Long.class), row.get("purged_seq", Long.class)))
        .one()
        .block(Duration.ofSeconds(10));
  }

  /** Every archived event's seq, read batch by batch in order. */
  private List<Long> archivedSeqs() {
    List<Long> seqs = new ArrayList<>();
    for (ArchiveBatch batch :
        db.sql("SELECT * FROM audit_archive ORDER BY first_seq")
            .map(row -> ArchiveBatch.of(row, true))
            .all()
            .collectList()
            .block(Duration.ofSeconds(10))) {
      batch.contents().events().forEach(event -> seqs.add(event.seq()));
    }
    return seqs;
  }

  /** Whether the archive's batches adjoin each other and the live log without overlapping. */
  private boolean noGapsNorOverlaps() {
    List<long[]> batches =
        db.sql("SELECT first_seq, last_seq FROM audit_archive ORDER BY first_seq")
            .map(row -> new long[] {row.get(0, Long.class), row.get(1, Long.class)})
            .all()
            .collectList()
            .block(Duration.ofSeconds(10));
    long expected = head().purgedSeq() + 1;
    for (long[] batch : batches) {
      if (batch[0] != expected) {
        return false;
      }
      expected = batch[1] + 1;
    }
    return firstLiveSeq() == expected;
  }

  private Connection jdbc() throws SQLException {
    DatabaseUrl url = DatabaseUrl.parse(environment.getProperty("airlock.database.url"));
    return DriverManager.getConnection(url.jdbcUrl(), url.user(), url.password());
  }

  private static void setData(Connection dba, long id, byte[] data) throws SQLException {
    try (PreparedStatement update =
        dba.prepareStatement("UPDATE audit_archive SET data = ? WHERE id = ?")) {
      update.setBytes(1, data);
      update.setLong(2, id);
      assertThat(update.executeUpdate()).isEqualTo(1);
    }
  }

  /** The same events as gzip'd JSON lines with a space before each line's end. */
  private byte[] respaced(List<StoredEvent> events) throws Exception {
    var out = new java.io.ByteArrayOutputStream();
    try (var gzip = new java.util.zip.GZIPOutputStream(out)) {
      for (StoredEvent event : events) {
        gzip.write(
            (json.writeValueAsString(event) + " \n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    return out.toByteArray();
  }

  // --- the API

  private AuditVerification verify(String token) {
    return http.get()
        .uri("/api/v1/audit/verification")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(AuditVerification.class)
        .returnResult()
        .getResponseBody();
  }

  /** Every event the query finds, newest first, following the cursor page by page. */
  private List<AuditEvent> allEvents(String token, String query, int limit) {
    List<AuditEvent> events = new ArrayList<>();
    String cursor = null;
    do {
      String uri =
          "/api/v1/audit/events?limit="
              + limit
              + (query.isEmpty() ? "" : "&" + query)
              + (cursor == null ? "" : "&cursor=" + cursor);
      AuditEventPage page =
          http.get()
              .uri(uri)
              .headers(h -> h.setBearerAuth(token))
              .exchange()
              .expectStatus()
              .isOk()
              .expectBody(AuditEventPage.class)
              .returnResult()
              .getResponseBody();
      events.addAll(page.getItems());
      cursor = page.getNextCursor();
    } while (cursor != null);
    return events;
  }

  /** The export's lines, each parsed as an event. */
  private List<AuditEvent> export(String token, String query) {
    var result =
        http.get()
            .uri("/api/v1/audit/export" + query)
            .headers(h -> h.setBearerAuth(token))
            .accept(MediaType.APPLICATION_NDJSON)
            .exchange()
            .expectStatus()
            .isOk()
            .expectHeader()
            .contentTypeCompatibleWith(MediaType.APPLICATION_NDJSON)
            .expectBody(String.class)
            .returnResult();
    String body = result.getResponseBody();
    assertThat(body).endsWith("\n");
    return body.lines().map(line -> json.readValue(line, AuditEvent.class)).toList();
  }

  private static List<AuditEvent> upTo(long seq, List<AuditEvent> events) {
    return events.stream().filter(e -> e.getSeq() <= seq).collect(Collectors.toList());
  }

  private static <T> List<T> reversed(List<T> list) {
    List<T> copy = new ArrayList<>(list);
    java.util.Collections.reverse(copy);
    return copy;
  }

  private static List<Long> range(long first, long last) {
    return LongStream.rangeClosed(first, last).boxed().toList();
  }

  private record Head(long lastSeq, long purgedSeq) {}
}
