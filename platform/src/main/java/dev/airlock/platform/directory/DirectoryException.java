package dev.airlock.platform.directory;

/**
 * A directory source could not be used (unreachable, TLS refused, bind refused, bad base or
 * filter). The message says which and never carries a password; it is shown in {@code
 * lastSyncError} and in the failed run's message.
 */
public class DirectoryException extends RuntimeException {

  public DirectoryException(String message) {
    super(message, null, false, false);
  }
}
