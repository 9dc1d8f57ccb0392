package dev.airlock.platform.user;

import dev.airlock.platform.api.model.User;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A user as stored, with the names of their roles. {@code source} is {@code local}, or {@code
 * directory:<name>} for a user synchronised from a directory source ({@code directorySourceId},
 * null once that source is removed), whose entry {@code externalKey} identifies.
 */
public record UserRow(
    UUID id,
    long rowNo,
    String username,
    String displayName,
    String email,
    String passwordHash,
    Map<String, String> labels,
    boolean disabled,
    boolean passwordChangeRequired,
    int failedLogins,
    Instant lockedUntil,
    Instant createdAt,
    Instant updatedAt,
    Instant lastLoginAt,
    List<String> roles,
    String source,
    UUID directorySourceId,
    String externalKey) {

  /** What {@code source} says of a local user. */
  public static final String LOCAL = "local";

  /**
   * A new local user, as created now: enabled, no failed logins, never logged in, not yet numbered
   * ({@code rowNo} 0: the database numbers it).
   */
  public static UserRow newLocal(
      UUID id,
      String username,
      String displayName,
      String email,
      String passwordHash,
      Map<String, String> labels,
      boolean passwordChangeRequired,
      List<String> roles,
      Instant now) {
    return new UserRow(
        id,
        0,
        username,
        displayName,
        email,
        passwordHash,
        labels,
        false,
        passwordChangeRequired,
        0,
        null,
        now,
        now,
        null,
        roles);
  }

  /** A local user. */
  public UserRow(
      UUID id,
      long rowNo,
      String username,
      String displayName,
      String email,
      String passwordHash,
      Map<String, String> labels,
      boolean disabled,
      boolean passwordChangeRequired,
      int failedLogins,
      Instant lockedUntil,
      Instant createdAt,
      Instant updatedAt,
      Instant lastLoginAt,
      List<String> roles) {
    this(
        id,
        rowNo,
        username,
        displayName,
        email,
        passwordHash,
        labels,
        disabled,
        passwordChangeRequired,
        failedLogins,
        lockedUntil,
        createdAt,
        updatedAt,
        lastLoginAt,
        roles,
        LOCAL,
        null,
        null);
  }

  /** Whether the user comes from a directory (and logs in with their directory password). */
  public boolean fromDirectory() {
    return !LOCAL.equals(source);
  }

  /** The user as the API shows it (never the password hash). */
  public User toApi() {
    User user =
        new User(
            id,
            username,
            roles,
            labels,
            disabled,
            createdAt.atOffset(ZoneOffset.UTC),
            updatedAt.atOffset(ZoneOffset.UTC));
    user.setSource(source);
    user.setDisplayName(displayName);
    user.setEmail(email);
    if (lastLoginAt != null) {
      user.setLastLoginAt(lastLoginAt.atOffset(ZoneOffset.UTC));
    }
    return user;
  }
}
