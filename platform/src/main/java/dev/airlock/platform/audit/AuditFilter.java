package dev.airlock.platform.audit;

import dev.airlock.platform.database.Rows;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Which events a query wants, applied alike in SQL to the live table and in memory to archived
 * events (the database compares with {@code utf8mb4_bin}, so both are exact matches); null fields
 * do not filter.
 *
 * @param from only events at or after this instant
 * @param to only events before this instant
 */
record AuditFilter(Instant from, Instant to, String actor, String action, String outcome) {

  boolean test(StoredEvent event) {
    return (from == null || !event.time().isBefore(from))
        && (to == null || event.time().isBefore(to))
        && (actor == null || actor.equals(event.actor()))
        && (action == null || action.equals(event.action()))
        && (outcome == null || outcome.equals(event.outcome()));
  }

  /** Adds this filter's conditions on {@code audit_events} to {@code where} and {@code binds}. */
  void addTo(List<String> where, Map<String, Object> binds) {
    if (from != null) {
      where.add("occurred_at >= :from");
      binds.put("from", Rows.column(from));
    }
    if (to != null) {
      where.add("occurred_at < :to");
      binds.put("to", Rows.column(to));
    }
    if (actor != null) {
      where.add("actor = :actor");
      binds.put("actor", actor);
    }
    if (action != null) {
      where.add("action = :action");
      binds.put("action", action);
    }
    if (outcome != null) {
      where.add("outcome = :outcome");
      binds.put("outcome", outcome);
    }
  }
}
