package dev.airlock.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Reads and writes durations as people type them: {@code 90s}, {@code 30m}, {@code 2h}, or parts of
 * them together ({@code 1h30m}); whole seconds, positive.
 */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {

  static final String EXPECTED = "expected: a duration such as 90s, 30m, 2h or 1h30m";

  private static final Pattern WHOLE = Pattern.compile("(?:\\d{1,9}[hms])+");
  private static final Pattern PART = Pattern.compile("(\\d{1,9})([hms])");

  @Override
  public Duration convert(String value) {
    try {
      return parse(value);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException(e.getMessage());
    }
  }

  /**
   * Parses a duration.
   *
   * @throws IllegalArgumentException naming the value and the expected form
   */
  static Duration parse(String value) {
    String text = value == null ? "" : value.strip().toLowerCase(Locale.ROOT);
    if (!WHOLE.matcher(text).matches()) {
      throw new IllegalArgumentException("'" + value + "' (" + EXPECTED + ")");
    }
    Duration total = Duration.ZERO;
    Matcher part = PART.matcher(text);
    while (part.find()) {
      long amount = Long.parseLong(part.group(1));
      total =
          total.plus(
              switch (part.group(2)) {
                case "h" -> Duration.ofHours(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofSeconds(amount);
              });
    }
    if (total.isZero()) {
      throw new IllegalArgumentException("'" + value + "' (" + EXPECTED + ", not zero)");
    }
    return total;
  }

  /**
   * Writes a duration the way {@link #parse} reads it, to the second: {@code 1h5m}, {@code 42s}.
   */
  static String format(Duration duration) {
    long seconds = Math.max(0, duration.toSeconds());
    if (seconds == 0) {
      return "0s";
    }
    StringBuilder text = new StringBuilder();
    long hours = seconds / 3600;
    long minutes = seconds % 3600 / 60;
    long rest = seconds % 60;
    if (hours > 0) {
      text.append(hours).append('h');
    }
    if (minutes > 0) {
      text.append(minutes).append('m');
    }
    if (rest > 0) {
      text.append(rest).append('s');
    }
    return text.toString();
  }

  /**
   * How long a {@code --wait} waits: {@code timeout}, or {@code byDefault} when none was given.
   * {@code --timeout} without {@code --wait} is a usage error.
   */
  static Duration waitTimeout(boolean wait, Duration timeout, Duration byDefault) {
    if (!wait && timeout != null) {
      throw CliException.usage("--timeout applies only with --wait");
    }
    return timeout == null ? byDefault : timeout;
  }
}
