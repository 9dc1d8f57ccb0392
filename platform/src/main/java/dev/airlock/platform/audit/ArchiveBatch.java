package dev.airlock.platform.audit;

import dev.airlock.platform.api.model.AuditArchiveBatch;
import dev.airlock.platform.database.Rows;
import io.r2dbc.spi.Readable;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * A row of {@code audit_archive}: consecutive events {@code firstSeq..lastSeq} stored as gzip'd
 * JSON lines (one {@link StoredEvent} per line, in seq order), the hash before the first event and
 * the hash of the last, and the SHA-256 of the uncompressed lines.
 *
 * @param firstAt the earliest event time in the batch
 * @param lastAt the latest event time in the batch (what archive retention compares)
 * @param data the compressed lines, or null when only the batch's description was read
 * @param bytes the compressed size
 */
record ArchiveBatch(
    long id,
    long firstSeq,
    long lastSeq,
    Instant firstAt,
    Instant lastAt,
    int events,
    String prevHash,
    String lastHash,
    String contentHash,
    byte[] data,
    int bytes,
    Instant createdAt) {

  // Its own mapper, not the application's: the stored format must not follow web settings.
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** The batch in a row of {@code audit_archive} ({@code data} included when it was selected). */
  static ArchiveBatch of(Readable row, boolean withData) {
    byte[] data = withData ? row.get("data", byte[].class) : null;
    return new ArchiveBatch(
        row.get("id", Long.class),
        row.get("first_seq", Long.class),
        row.get("last_seq", Long.class),
        Rows.instant(row.get("first_at", LocalDateTime.class)),
        Rows.instant(row.get("last_at", LocalDateTime.class)),
        row.get("events", Integer.class),
        row.get("prev_hash", String.class),
        row.get("last_hash", String.class),
        row.get("content_hash", String.class),
        data,
        withData ? data.length : row.get("bytes", Integer.class),
        Rows.instant(row.get("created_at", LocalDateTime.class)));
  }

  /** The batch as the API lists it. */
  AuditArchiveBatch toApi() {
    return new AuditArchiveBatch(
        id,
        firstSeq,
        lastSeq,
        firstAt.atOffset(ZoneOffset.UTC),
        lastAt.atOffset(ZoneOffset.UTC),
        events,
        bytes,
        prevHash,
        lastHash,
        createdAt.atOffset(ZoneOffset.UTC));
  }

  /**
   * The batch's events decoded, and the SHA-256 of its uncompressed lines (to compare with {@link
   * #contentHash()}); fails with {@link Unreadable} when the data is not gzip'd JSON lines.
   */
  Contents contents() {
    byte[] lines;
    try (var in = new GZIPInputStream(new ByteArrayInputStream(data))) {
      lines = in.readAllBytes();
    } catch (IOException e) {
      throw new Unreadable("its data is not gzip (" + e.getMessage() + ")");
    }
    List<StoredEvent> decoded = new ArrayList<>(events);
    int start = 0;
    for (int i = 0; i < lines.length; i++) {
      if (lines[i] == '\n') {
        try {
          decoded.add(JSON.readValue(lines, start, i - start, StoredEvent.class));
        } catch (JacksonException e) {
          throw new Unreadable(
              "line " + (decoded.size() + 1) + " is not an event (" + e.getOriginalMessage() + ")");
        }
        start = i + 1;
      }
    }
    if (start != lines.length) {
      throw new Unreadable("its last line is cut short");
    }
    return new Contents(decoded, sha256(lines));
  }

  /** The compressed JSON lines of {@code events} and the SHA-256 of the uncompressed lines. */
  static Packed pack(List<StoredEvent> events) {
    MessageDigest digest = digest();
    var out = new ByteArrayOutputStream();
    try (var gzip = new GZIPOutputStream(out)) {
      for (StoredEvent event : events) {
        byte[] line = (JSON.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8);
        digest.update(line);
        gzip.write(line);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("compressing audit events in memory", e);
    }
    return new Packed(out.toByteArray(), HexFormat.of().formatHex(digest.digest()));
  }

  private static String sha256(byte[] bytes) {
    return HexFormat.of().formatHex(digest().digest(bytes));
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** A batch's decoded events and the hash of its uncompressed data. */
  record Contents(List<StoredEvent> events, String contentHash) {}

  /** Events ready to store: the compressed lines and their content hash. */
  record Packed(byte[] data, String contentHash) {}

  /** A batch whose data cannot be decoded. */
  static final class Unreadable extends RuntimeException {
    Unreadable(String message) {
      super(message);
    }
  }
}
