package dev.airlock.platform.user;

import dev.airlock.platform.database.Rows;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** Ends a user's login sessions, so their refresh and access tokens stop working. */
@Component
public class SessionRevoker {

  private final DatabaseClient db;

  public SessionRevoker(DatabaseClient db) {
    this.db = db;
  }

  /** Revokes every live session of {@code userId}. */
  public Mono<Void> revokeAll(UUID userId, String reason) {
    return revokeAllBut(userId, null, reason);
  }

  /** Revokes every live session of {@code userId} except {@code keep} (may be null). */
  public Mono<Void> revokeAllBut(UUID userId, UUID keep, String reason) {
    return db.sql(
            "UPDATE auth_sessions SET revoked_at = :now, revoked_reason = :reason"
                + " WHERE user_id = :user AND revoked_at IS NULL AND id <> :keep")
        .bind("now", Rows.column(Rows.now()))
        .bind("reason", reason)
        .bind("user", userId.toString())
        .bind("keep", keep == null ? "" : keep.toString())
        .then();
  }

  /** Revokes one session. */
  public Mono<Void> revoke(UUID sessionId, String reason) {
    return db.sql(
            "UPDATE auth_sessions SET revoked_at = :now, revoked_reason = :reason"
                + " WHERE id = :id AND revoked_at IS NULL")
        .bind("now", Rows.column(Rows.now()))
        .bind("reason", reason)
        .bind("id", sessionId.toString())
        .then();
  }
}
