package dev.airlock.platform.mail;

/**
 * A mail in the outbox, as the mail job delivers it.
 *
 * @param id its row's id (also its Message-ID)
 * @param recipient the address it goes to
 * @param template the template it was rendered from
 * @param subject its subject line
 * @param body its plain-text body
 * @param attempts delivery attempts so far
 */
public record OutboxMail(
    String id, String recipient, String template, String subject, String body, int attempts) {}
