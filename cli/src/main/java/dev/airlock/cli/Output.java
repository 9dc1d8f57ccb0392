package dev.airlock.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.airlock.sdk.invoker.ApiClient;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * How results are printed: {@code text} for people (aligned tables and key/value lines), {@code
 * json} for scripts (exactly one JSON document on standard output, in the API's own shapes).
 */
final class Output {

  /** The output formats. */
  enum Format {
    text,
    json
  }

  private static final JsonMapper JSON =
      ApiClient.createDefaultMapper(null)
          .rebuild()
          .changeDefaultPropertyInclusion(
              inclusion -> inclusion.withValueInclusion(JsonInclude.Include.NON_NULL))
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  private static final DateTimeFormatter INSTANT =
      DateTimeFormatter.ISO_INSTANT.withZone(ZoneOffset.UTC);

  private Output() {}

  private static final JsonMapper JSON_LINE =
      JSON.rebuild().disable(SerializationFeature.INDENT_OUTPUT).build();

  /** Prints {@code value} as one line of JSON (JSON lines, for streams of records). */
  static void jsonLine(PrintStream out, Object value) {
    out.println(JSON_LINE.writeValueAsString(value));
  }

  /** Prints {@code value} as one JSON document and a line break. */
  static void json(PrintStream out, Object value) {
    out.println(JSON.writeValueAsString(value));
    out.flush();
  }

  /**
   * Prints a table: a header row, then one row per entry, columns separated by at least two spaces
   * and left-aligned; {@code null} cells print as {@code -}.
   */
  static void table(PrintStream out, List<String> headers, List<List<String>> rows) {
    int[] widths = new int[headers.size()];
    List<List<String>> all = new ArrayList<>();
    all.add(headers);
    for (List<String> row : rows) {
      all.add(row.stream().map(cell -> cell == null || cell.isEmpty() ? "-" : cell).toList());
    }
    for (List<String> row : all) {
      for (int i = 0; i < widths.length; i++) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    for (List<String> row : all) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < widths.length; i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < widths.length - 1) {
          line.append(" ".repeat(widths[i] - cell.length() + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  /** An instant in UTC to the second ({@code 2030-01-01T00:30:00Z}), or {@code null}. */
  static String instant(OffsetDateTime time) {
    return time == null ? null : INSTANT.format(time.toInstant().truncatedTo(ChronoUnit.SECONDS));
  }

  /**
   * An instant with how far it is from {@code now}: {@code 2030-… (in 29m58s)}, or {@code null}.
   */
  static String instantFromNow(OffsetDateTime time, Instant now) {
    if (time == null) {
      return null;
    }
    Duration delta = Duration.between(now, time.toInstant());
    String relative =
        delta.isNegative()
            ? DurationConverter.format(delta.negated()) + " ago"
            : "in " + DurationConverter.format(delta);
    return instant(time) + " (" + relative + ")";
  }
}
