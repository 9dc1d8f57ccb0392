package dev.airlock.cli;

/**
 * The exit statuses a script can rely on; the same list is in {@code airlock --help} and the
 * README. They never change meaning.
 */
final class ExitStatus {

  /** The command did what was asked. */
  static final int OK = 0;

  /** Anything not listed below: a bug, a conflict, an answer the CLI did not expect. */
  static final int UNEXPECTED = 1;

  /** A wrong command, option or value (including one the platform refused as invalid). */
  static final int USAGE = 2;

  /** Not logged in, the login expired, or the credentials were refused or lack the permission. */
  static final int CREDENTIALS = 3;

  /**
   * The container, image, node or tunnel target does not exist (or is not visible to the caller).
   */
  static final int NOT_FOUND = 4;

  /**
   * The platform is unreachable or temporarily unavailable, the caller is over quota, or the node
   * to reach is offline.
   */
  static final int RETRY_LATER = 5;

  /** The container failed (or was deleted) instead of becoming ready. */
  static final int CONTAINER_FAILED = 6;

  /** The container was not ready (or not deleted) within the timeout. */
  static final int TIMED_OUT = 7;

  /**
   * A tunnel could not be opened or broke: the signal node was unreachable, the node could not
   * reach its target, the session was terminated, …
   */
  static final int TUNNEL_FAILED = 8;

  /** The job run (with {@code jobs run --wait}) failed or was interrupted. */
  static final int JOB_FAILED = 9;

  /** The audit log's hash chain does not verify ({@code audit verify}). */
  static final int AUDIT_INVALID = 10;

  /** The lines of {@code --help}'s "Exit status" list, as picocli takes them ("code:text"). */
  static final String[] HELP = {
    OK + ":success",
    UNEXPECTED + ":unexpected error",
    USAGE + ":usage error: a wrong command, option or value",
    CREDENTIALS + ":not logged in, login expired, or credentials refused",
    NOT_FOUND + ":not found (container, image, node, tunnel target)",
    RETRY_LATER + ":unreachable, temporarily unavailable or over quota: retry later",
    CONTAINER_FAILED + ":the container failed (its reason is printed)",
    TIMED_OUT + ":timed out waiting (--wait)",
    TUNNEL_FAILED + ":the tunnel could not be opened or broke (the line says why)",
    JOB_FAILED + ":the job run failed or was interrupted (jobs run --wait; its message is printed)",
    AUDIT_INVALID
        + ":the audit log's hash chain does not verify (audit verify; the line says where)",
  };

  private ExitStatus() {}
}
