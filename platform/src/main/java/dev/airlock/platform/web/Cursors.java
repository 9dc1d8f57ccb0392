package dev.airlock.platform.web;

import dev.airlock.platform.problem.ApiProblem;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.function.ToLongFunction;

/** Opaque page cursors: the position after which the next page starts. */
public final class Cursors {

  private Cursors() {}

  public static String encode(long position) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(("p" + position).getBytes(StandardCharsets.US_ASCII));
  }

  /** A cursor after the object named {@code name}, for pages ordered by name. */
  public static String encode(String name) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(("n" + name).getBytes(StandardCharsets.UTF_8));
  }

  /** The name in {@code cursor}, or the empty string for the first page. */
  public static String decodeName(String cursor) {
    if (cursor == null || cursor.isEmpty()) {
      return "";
    }
    try {
      String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (text.startsWith("n")) {
        return text.substring(1);
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw invalid();
  }

  /** The position in {@code cursor}, or {@code whenAbsent} for the first page. */
  public static long decode(String cursor, long whenAbsent) {
    if (cursor == null || cursor.isEmpty()) {
      return whenAbsent;
    }
    try {
      String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
      if (text.startsWith("p")) {
        return Long.parseLong(text.substring(1));
      }
    } catch (IllegalArgumentException e) {
      // reported below
    }
    throw invalid();
  }

  /**
   * One page cut from rows fetched with {@code limit + 1}: the first {@code limit} rows, and the
   * cursor after the last of them when there are more (null on the last page).
   */
  public record Page<T>(List<T> rows, String nextCursor) {}

  /**
   * Cuts a page from {@code fetched} (read with {@code limit + 1}), ordered by {@code position}.
   */
  public static <T> Page<T> page(List<T> fetched, int limit, ToLongFunction<T> position) {
    if (fetched.size() <= limit) {
      return new Page<>(fetched, null);
    }
    List<T> rows = fetched.subList(0, limit);
    return new Page<>(rows, encode(position.applyAsLong(rows.get(limit - 1))));
  }

  private static ApiProblem invalid() {
    return ApiProblem.validation(
        "cursor", "not a cursor this API issued (expected: the nextCursor of a previous page)");
  }
}
