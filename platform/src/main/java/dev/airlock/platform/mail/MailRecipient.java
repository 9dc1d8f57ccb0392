package dev.airlock.platform.mail;

/**
 * Whom a notification is for: a user with an e-mail address.
 *
 * @param username their username
 * @param displayName their display name, or null
 * @param email their address; a notification to a user without one is not queued
 */
public record MailRecipient(String username, String displayName, String email) {

  /** Whether a mail can go to them. */
  public boolean reachable() {
    return email != null && !email.isBlank();
  }

  /** How a mail greets them: the display name, else the username. */
  public String greeting() {
    return displayName == null || displayName.isBlank() ? username : displayName;
  }
}
