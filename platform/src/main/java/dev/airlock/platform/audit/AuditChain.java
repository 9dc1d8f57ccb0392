package dev.airlock.platform.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * The hash that links an audit event to the one before it: SHA-256 over the previous hash and every
 * field of the event, each length-prefixed so no two different events encode alike.
 */
public final class AuditChain {

  /** The previous hash of the first event. */
  public static final String GENESIS = "0".repeat(64);

  private AuditChain() {}

  /** Returns the hex hash of an event stored at {@code seq} after an event hashed {@code prev}. */
  public static String hash(
      String prev,
      long seq,
      String id,
      Instant time,
      String actor,
      String actorId,
      String action,
      String targetKind,
      String target,
      String outcome,
      String reason,
      String sourceAddress) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, time);
    for (String field :
        new String[] {
          prev,
          Long.toString(seq),
          id,
          Long.toString(micros),
          actor,
          actorId,
          action,
          targetKind,
          target,
          outcome,
          reason,
          sourceAddress
        }) {
      if (field == null) {
        digest.update("-1:".getBytes(StandardCharsets.US_ASCII));
      } else {
        byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
        digest.update((bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
        digest.update(bytes);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
