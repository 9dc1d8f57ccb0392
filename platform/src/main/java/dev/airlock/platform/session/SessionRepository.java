package dev.airlock.platform.session;

import dev.airlock.platform.api.model.Session;
import dev.airlock.platform.api.model.SessionMode;
import dev.airlock.platform.api.model.SessionPath;
import dev.airlock.platform.api.model.SessionState;
import dev.airlock.platform.api.model.SessionTransport;
import dev.airlock.platform.database.Rows;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Remote sessions as stored. State moves one way, {@code pending → active → ended} (or {@code
 * pending → ended}); each move is one conditional UPDATE, which is what makes a connect token
 * single use across every signal node and platform replica.
 */
@Component
public class SessionRepository {

  private final DatabaseClient db;

  public SessionRepository(DatabaseClient db) {
    this.db = db;
  }

  /** A session and where it is. */
  public record Row(long rowNo, Session session, String tokenId, Instant tokenExpiresAt) {}

  /**
   * Records a pending session; {@code tunnelTarget} and {@code login} are null except for a tunnel
   * (and the login only for one to {@code ssh}), {@code node} except for one routed to a trusted
   * cluster's node.
   */
  public Mono<Void> insert(
      UUID id,
      UUID userId,
      String username,
      UUID agentId,
      SessionMode mode,
      SessionTransport transport,
      String tunnelTarget,
      String login,
      String node,
      String tokenId,
      Instant tokenExpiresAt,
      String nodeId) {
    var insert =
        db.sql(
                "INSERT INTO remote_sessions (id, user_id, username, agent_id, mode, transport,"
                    + " tunnel_target, login, node, state, token_id, token_expires_at,"
                    + " signal_node_id, created_at) VALUES (:id, :user, :username, :agent, :mode,"
                    + " :transport, :tunnelTarget, :login, :remoteNode, 'pending', :token,"
                    + " :expires, :node, :now)")
            .bind("id", id.toString())
            .bind("user", userId.toString())
            .bind("username", username)
            .bind("agent", agentId.toString())
            .bind("mode", mode.getValue())
            .bind("transport", transport.getValue())
            .bind("token", tokenId)
            .bind("expires", Rows.column(tokenExpiresAt))
            .bind("node", nodeId)
            .bind("now", Rows.column(Rows.now()));
    insert = Rows.bind(insert, "tunnelTarget", tunnelTarget, String.class);
    insert = Rows.bind(insert, "remoteNode", node, String.class);
    return Rows.bind(insert, "login", login, String.class).then();
  }

  public Mono<Row> find(UUID id) {
    return db.sql("SELECT * FROM remote_sessions WHERE id = :id")
        .bind("id", id.toString())
        .map(SessionRepository::row)
        .one();
  }

  /** Newest first: {@code before} is a row number, or {@link Long#MAX_VALUE} for the first page. */
  public Flux<Row> page(UUID userId, SessionState state, UUID agentId, long before, int limit) {
    StringBuilder where = new StringBuilder("WHERE row_no < :before");
    if (userId != null) {
      where.append(" AND user_id = :user");
    }
    if (state != null) {
      where.append(" AND state = :state");
    }
    if (agentId != null) {
      where.append(" AND agent_id = :agent");
    }
    var spec =
        db.sql("SELECT * FROM remote_sessions " + where + " ORDER BY row_no DESC LIMIT :limit")
            .bind("before", before)
            .bind("limit", limit);
    if (userId != null) {
      spec = spec.bind("user", userId.toString());
    }
    if (state != null) {
      spec = spec.bind("state", state.getValue());
    }
    if (agentId != null) {
      spec = spec.bind("agent", agentId.toString());
    }
    return spec.map(SessionRepository::row).all();
  }

  /**
   * Redeems the connect token {@code tokenId} of session {@code id} at {@code nodeId}: true once,
   * for the first caller while the token is valid; false for every later or late one.
   */
  public Mono<Boolean> start(UUID id, String tokenId, String nodeId) {
    LocalDateTime now = Rows.column(Rows.now());
    return db.sql(
            "UPDATE remote_sessions SET state = 'active', started_at = :now WHERE id = :id AND"
                + " token_id = :token AND signal_node_id = :node AND state = 'pending' AND"
                + " token_expires_at > :now")
        .bind("now", now)
        .bind("id", id.toString())
        .bind("token", tokenId)
        .bind("node", nodeId)
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /** Ends the session if it has not ended yet (a user or an admin cut it); false otherwise. */
  public Mono<Boolean> terminate(UUID id, String reason) {
    return db.sql(
            "UPDATE remote_sessions SET state = 'ended', ended_at = :now, end_reason = :reason"
                + " WHERE id = :id AND state <> 'ended'")
        .bind("now", Rows.column(Rows.now()))
        .bind("reason", reason)
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /**
   * Records the signal node's report of the session's end (path, bytes): true the first time, false
   * for a repeated report. A session a user terminated keeps its reason and end time. A tunnel that
   * started has the path {@code relay}, whatever the node says: its bytes can only pass through
   * signal.
   */
  public Mono<Boolean> reportEnd(
      UUID id, String reason, SessionPath path, Long bytesFromClient, Long bytesFromAgent) {
    var spec =
        db.sql(
                "UPDATE remote_sessions SET state = 'ended', ended_at = COALESCE(ended_at, :now),"
                    + " end_reason = COALESCE(end_reason, :reason), path = CASE WHEN mode ="
                    + " 'tunnel' AND started_at IS NOT NULL THEN 'relay' ELSE COALESCE(:path, path)"
                    + " END,"
                    + " bytes_from_client = :up, bytes_from_agent = :down, end_reported = TRUE"
                    + " WHERE id = :id AND end_reported = FALSE")
            .bind("now", Rows.column(Rows.now()))
            .bind("reason", reason)
            .bind("id", id.toString());
    spec = Rows.bind(spec, "path", path == null ? null : path.getValue(), String.class);
    spec = Rows.bind(spec, "up", bytesFromClient, Long.class);
    spec = Rows.bind(spec, "down", bytesFromAgent, Long.class);
    return spec.fetch().rowsUpdated().map(n -> n > 0);
  }

  /** Ends every session of the agent that has not started; emits how many. */
  public Mono<Long> endPending(UUID agentId, String reason) {
    return db.sql(
            "UPDATE remote_sessions SET state = 'ended', ended_at = :now, end_reason = :reason"
                + " WHERE agent_id = :agent AND state = 'pending'")
        .bind("now", Rows.column(Rows.now()))
        .bind("reason", reason)
        .bind("agent", agentId.toString())
        .fetch()
        .rowsUpdated();
  }

  private static Row row(Readable row) {
    Session session =
        new Session(
            UUID.fromString(row.get("id", String.class)),
            UUID.fromString(row.get("user_id", String.class)),
            row.get("username", String.class),
            UUID.fromString(row.get("agent_id", String.class)),
            SessionMode.fromValue(row.get("mode", String.class)),
            SessionTransport.fromValue(row.get("transport", String.class)),
            SessionState.fromValue(row.get("state", String.class)),
            Rows.offset(row.get("created_at", LocalDateTime.class)));
    String path = row.get("path", String.class);
    session.setPath(path == null ? null : SessionPath.fromValue(path));
    session.setSignalNodeId(row.get("signal_node_id", String.class));
    session.setStartedAt(Rows.offset(row.get("started_at", LocalDateTime.class)));
    session.setEndedAt(Rows.offset(row.get("ended_at", LocalDateTime.class)));
    session.setEndReason(row.get("end_reason", String.class));
    session.setTunnelTarget(row.get("tunnel_target", String.class));
    session.setLogin(row.get("login", String.class));
    session.setNode(row.get("node", String.class));
    session.setBytesFromClient(row.get("bytes_from_client", Long.class));
    session.setBytesFromAgent(row.get("bytes_from_agent", Long.class));
    return new Row(
        row.get("row_no", Long.class),
        session,
        row.get("token_id", String.class),
        Rows.instant(row.get("token_expires_at", LocalDateTime.class)));
  }
}
