package dev.airlock.agent;

import java.util.Locale;

/** Which way clipboard text may go: {@code read} out of the remote side, {@code write} into it. */
enum ClipboardPolicy {
  NONE(false, false),
  READ(true, false),
  WRITE(false, true),
  BOTH(true, true);

  private final boolean read;
  private final boolean write;

  ClipboardPolicy(boolean read, boolean write) {
    this.read = read;
    this.write = write;
  }

  boolean allowsRead() {
    return read;
  }

  boolean allowsWrite() {
    return write;
  }

  /** What both this and {@code other} allow. */
  ClipboardPolicy narrow(ClipboardPolicy other) {
    return of(read && other.read, write && other.write);
  }

  static ClipboardPolicy of(boolean read, boolean write) {
    return read ? (write ? BOTH : READ) : (write ? WRITE : NONE);
  }

  /** The wire name: none, read, write or both. */
  String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses a wire name.
   *
   * @throws IllegalArgumentException when it is not none, read, write or both
   */
  static ClipboardPolicy parse(String value) {
    for (ClipboardPolicy policy : values()) {
      if (policy.wireName().equals(value)) {
        return policy;
      }
    }
    throw new IllegalArgumentException(
        "clipboard: " + value + " (expected: none, read, write or both)");
  }
}
