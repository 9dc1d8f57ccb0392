package dev.airlock.contract.harness;

import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.fail;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.AuditOutcome;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Reads the audit log as an administrator, to check that an action left the event it should. */
public final class AuditTrail {

  private static final Duration WAIT = Duration.ofSeconds(15);

  private final Supplier<AirlockClient> admin;

  /** Reads through {@code admin} (asked each time: a test may log its administrator in again). */
  public AuditTrail(Supplier<AirlockClient> admin) {
    this.admin = admin;
  }

  /**
   * The sequence number of the newest event with this action and outcome ({@code null}: any), or 0
   * if none.
   */
  public long newestSeq(String action, AuditOutcome outcome) {
    List<AuditEvent> newest = events(action, outcome, 1);
    return newest.isEmpty() ? 0 : newest.get(0).getSeq();
  }

  /**
   * Waits (up to 15 s) for an event with this action and outcome ({@code null}: any), newer than
   * {@code afterSeq}, that matches; fails the test, listing what it found, if none appears.
   */
  public AuditEvent awaitEvent(
      String action, AuditOutcome outcome, long afterSeq, Predicate<AuditEvent> matching) {
    Instant deadline = Instant.now().plus(WAIT);
    List<AuditEvent> seen = List.of();
    while (true) {
      seen = events(action, outcome, 100).stream().filter(e -> e.getSeq() > afterSeq).toList();
      for (AuditEvent event : seen) {
        if (matching.test(event)) {
          return event;
        }
      }
      if (Instant.now().isAfter(deadline)) {
        return fail(
            "no audit event action=%s outcome=%s after seq %d matched; newer ones: %s",
            action, outcome == null ? "any" : outcome.getValue(), afterSeq, seen);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return fail("interrupted while waiting for an audit event");
      }
    }
  }

  /** Like {@link #awaitEvent(String, AuditOutcome, long, Predicate)}, any newer event. */
  public AuditEvent awaitEvent(String action, AuditOutcome outcome, long afterSeq) {
    return awaitEvent(action, outcome, afterSeq, event -> true);
  }

  private List<AuditEvent> events(String action, AuditOutcome outcome, int limit) {
    List<AuditEvent> items =
        admin
            .get()
            .audit()
            .listAuditEvents(null, null, null, action, outcome, limit, null)
            .block(CALL_TIMEOUT)
            .getItems();
    return items == null ? List.of() : items;
  }
}
