package dev.airlock.cli;

/**
 * A failure the CLI explains itself: its message is the line printed after {@code airlock: }, and
 * the process exits with {@link #exitStatus()}.
 */
final class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int exitStatus;

  CliException(int exitStatus, String message) {
    super(message);
    this.exitStatus = exitStatus;
  }

  CliException(int exitStatus, String message, Throwable cause) {
    super(message, cause);
    this.exitStatus = exitStatus;
  }

  static CliException usage(String message) {
    return new CliException(ExitStatus.USAGE, message);
  }

  /** One of the {@link ExitStatus} codes. */
  int exitStatus() {
    return exitStatus;
  }
}
