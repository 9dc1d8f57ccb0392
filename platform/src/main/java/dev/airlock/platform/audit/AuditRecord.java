package dev.airlock.platform.audit;

import dev.airlock.platform.api.model.AuditOutcome;

/**
 * What happened, before it is given its place in the chain.
 *
 * @param actor the username, {@code anonymous} or {@code system}
 * @param actorId the user's id, or null
 * @param action what was attempted, e.g. {@code user.create}
 * @param targetKind the kind of object acted on, or null
 * @param target the object acted on (its id or name), or null
 * @param outcome success, failure or denied
 * @param reason why it failed or was denied, or a short note; never a secret
 * @param sourceAddress the caller's network address, or null
 */
public record AuditRecord(
    String actor,
    String actorId,
    String action,
    String targetKind,
    String target,
    AuditOutcome outcome,
    String reason,
    String sourceAddress) {

  public AuditRecord {
    reason = truncate(reason, 512);
    target = truncate(target, 256);
    actor = truncate(actor, 128);
  }

  private static String truncate(String s, int max) {
    return s == null || s.length() <= max ? s : s.substring(0, max);
  }
}
