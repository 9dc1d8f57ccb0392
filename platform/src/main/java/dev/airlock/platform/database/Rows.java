package dev.airlock.platform.database;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;

/** Conversions between the API's types and the database's columns (UTC, microseconds). */
public final class Rows {

  private Rows() {}

  /** Now, at the precision the database stores. */
  public static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MICROS);
  }

  public static LocalDateTime column(Instant instant) {
    return instant == null ? null : LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  public static Instant instant(LocalDateTime column) {
    return column == null ? null : column.toInstant(ZoneOffset.UTC);
  }

  public static OffsetDateTime offset(LocalDateTime column) {
    return column == null ? null : column.atOffset(ZoneOffset.UTC);
  }

  /** Binds {@code value}, or SQL NULL of {@code type} when it is null. */
  public static <T> GenericExecuteSpec bind(
      GenericExecuteSpec spec, String name, T value, Class<T> type) {
    return value == null ? spec.bindNull(name, type) : spec.bind(name, value);
  }
}
