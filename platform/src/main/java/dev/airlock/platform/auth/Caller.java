package dev.airlock.platform.auth;

import dev.airlock.platform.rbac.Grants;
import java.util.List;
import java.util.UUID;

/**
 * Who is making a request, once their credentials have been checked.
 *
 * @param userId the user
 * @param username their name, as audit events record it
 * @param method how they authenticated
 * @param sessionId the login session, for a password login
 * @param apiKeyId the key, for an API key
 * @param grants what their credentials allow
 * @param roles the names of the roles behind {@code grants} (a trusted leaf cluster maps them)
 * @param passwordChangeRequired true when only changing the password is allowed
 */
public record Caller(
    UUID userId,
    String username,
    AuthMethod method,
    UUID sessionId,
    UUID apiKeyId,
    Grants grants,
    List<String> roles,
    boolean passwordChangeRequired) {

  /** How a caller authenticated. */
  public enum AuthMethod {
    PASSWORD,
    API_KEY
  }
}
