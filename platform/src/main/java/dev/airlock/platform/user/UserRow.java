package dev.airlock.platform.user;

import dev.airlock.platform.api.model.User;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** A user as stored, with the names of their roles. */
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
    List<String> roles) {

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
    user.setDisplayName(displayName);
    user.setEmail(email);
    if (lastLoginAt != null) {
      user.setLastLoginAt(lastLoginAt.atOffset(ZoneOffset.UTC));
    }
    return user;
  }
}
