package dev.airlock.platform.user;

import dev.airlock.platform.api.model.SessionState;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.session.SessionRepository;
import dev.airlock.platform.signalnode.SignalNodeClient;
import java.util.List;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Ends a user's login sessions, so their refresh and access tokens stop working; and, for an
 * account being disabled, everything else that lets them act.
 */
@Component
public class SessionRevoker {

  /** Remote sessions looked at per state when an account is shut off. */
  private static final int MAX_LIVE_SESSIONS = 10_000;

  private final DatabaseClient db;
  private final SessionRepository remoteSessions;
  private final SignalNodeClient signalNodes;

  public SessionRevoker(
      DatabaseClient db, SessionRepository remoteSessions, SignalNodeClient signalNodes) {
    this.db = db;
    this.remoteSessions = remoteSessions;
    this.signalNodes = signalNodes;
  }

  /**
   * Shuts off a user whose account is being disabled: revokes their login sessions and API keys,
   * and ends their pending and active remote sessions, in the caller's transaction. Emits the
   * remote sessions that were live, for {@link #cut} once the transaction has committed.
   */
  public Mono<List<LiveSession>> endAccess(UUID userId, String reason) {
    Mono<Void> keys =
        db.sql(
                "UPDATE api_keys SET revoked_at = :now WHERE owner_id = :user"
                    + " AND revoked_at IS NULL")
            .bind("now", Rows.column(Rows.now()))
            .bind("user", userId.toString())
            .then();
    Flux<LiveSession> live =
        Flux.concat(
                remoteSessions.page(
                    userId, SessionState.ACTIVE, null, Long.MAX_VALUE, MAX_LIVE_SESSIONS),
                remoteSessions.page(
                    userId, SessionState.PENDING, null, Long.MAX_VALUE, MAX_LIVE_SESSIONS))
            .concatMap(
                row ->
                    remoteSessions
                        .terminate(row.session().getId(), reason)
                        .filter(ended -> ended)
                        .map(
                            ended ->
                                new LiveSession(
                                    row.session().getId(),
                                    row.session().getState() == SessionState.ACTIVE
                                        ? row.session().getSignalNodeId()
                                        : null)));
    return revokeAll(userId, reason).then(keys).thenMany(live).collectList();
  }

  /**
   * Has the signal nodes cut the remote sessions {@link #endAccess} ended (a node that does not
   * answer is logged and skipped: the session is already ended in the database).
   */
  public Mono<Void> cut(List<LiveSession> sessions) {
    return Flux.fromIterable(sessions)
        .filter(session -> session.signalNodeId() != null)
        .flatMap(session -> signalNodes.cutSession(session.signalNodeId(), session.id()))
        .then();
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

  /**
   * A remote session that was live when its user's access ended.
   *
   * @param signalNodeId the node relaying it, or null when it had not started
   */
  public record LiveSession(UUID id, String signalNodeId) {}
}
