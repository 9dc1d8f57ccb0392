package dev.airlock.platform.agent;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.TunnelTarget;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reads and writes agents. An agent is online while a signal node that registered within {@code
 * airlock.signal.node-timeout} says it holds it; a node that stops renewing takes its agents
 * offline with it, without anyone writing a row.
 */
@Component
public class AgentRepository {

  private static final String SELECT =
      "SELECT a.*, n.url AS node_url, n.last_seen_at AS node_seen FROM agents a"
          + " LEFT JOIN signal_nodes n ON n.id = a.signal_node_id ";

  private final DatabaseClient db;
  private final RuleCodec codec;
  private final TunnelTargets tunnelTargets;
  private final Duration nodeTimeout;

  public AgentRepository(
      DatabaseClient db,
      RuleCodec codec,
      TunnelTargets tunnelTargets,
      AirlockProperties properties) {
    this.db = db;
    this.codec = codec;
    this.tunnelTargets = tunnelTargets;
    this.nodeTimeout = properties.signal().nodeTimeout();
  }

  public Mono<AgentRow> find(UUID id) {
    return db.sql(SELECT + "WHERE a.id = :id").bind("id", id.toString()).map(this::row).one();
  }

  /** The agent whose id or (unique) name is {@code target}. */
  public Mono<AgentRow> findByIdOrName(String target) {
    try {
      return find(UUID.fromString(target));
    } catch (IllegalArgumentException notAnId) {
      return db.sql(SELECT + "WHERE a.name = :name").bind("name", target).map(this::row).one();
    }
  }

  /**
   * A page of agents after {@code after} (a row number), filtered by kind, presence and labels (all
   * must match).
   */
  public Flux<AgentRow> page(
      AgentKind kind, Boolean online, Map<String, String> labels, long after, int limit) {
    StringBuilder where = new StringBuilder("WHERE a.row_no > :after");
    if (kind != null) {
      where.append(" AND a.kind = :kind");
    }
    if (online != null) {
      where.append(
          online
              ? " AND a.signal_node_id IS NOT NULL AND n.last_seen_at > :fresh"
              : " AND (a.signal_node_id IS NULL OR n.last_seen_at IS NULL"
                  + " OR n.last_seen_at <= :fresh)");
    }
    int i = 0;
    for (var ignored : labels.entrySet()) {
      where.append(" AND JSON_UNQUOTE(JSON_EXTRACT(a.labels, :p").append(i);
      where.append(")) = :v").append(i);
      i++;
    }
    var spec =
        db.sql(SELECT + where + " ORDER BY a.row_no LIMIT :limit")
            .bind("after", after)
            .bind("limit", limit);
    if (kind != null) {
      spec = spec.bind("kind", kind.getValue());
    }
    if (online != null) {
      spec = spec.bind("fresh", Rows.column(Rows.now().minus(nodeTimeout)));
    }
    i = 0;
    for (var label : labels.entrySet()) {
      spec =
          spec.bind("p" + i, "$.\"" + label.getKey().replace("\"", "\\\"") + "\"")
              .bind("v" + i, label.getValue());
      i++;
    }
    return spec.map(this::row).all();
  }

  /** Whether an agent is called {@code name}. */
  public Mono<Boolean> nameTaken(String name) {
    return db.sql("SELECT COUNT(*) FROM agents WHERE name = :name")
        .bind("name", name)
        .map(row -> row.get(0, Long.class) > 0)
        .one();
  }

  public Mono<Void> insert(
      UUID id,
      String name,
      JoinTokens.Grant grant,
      String hostname,
      String version,
      String publicKey,
      String fingerprint,
      String nodeId,
      List<TunnelTarget> targets) {
    Instant now = Rows.now();
    var insert =
        db.sql(
                "INSERT INTO agents (id, name, kind, labels, hostname, version, public_key,"
                    + " dtls_fingerprint, join_token_id, enrolled_at, signal_node_id,"
                    + " connected_at, last_seen_at, targets) VALUES (:id, :name, :kind, :labels,"
                    + " :host, :version, :key, :fp, :token, :now, :node, :now, :now, :targets)")
            .bind("id", id.toString())
            .bind("name", name)
            .bind("kind", grant.kind().getValue())
            .bind("labels", codec.labels(grant.labels()))
            .bind("host", hostname)
            .bind("key", publicKey)
            .bind("fp", fingerprint)
            .bind("token", grant.tokenId().toString())
            .bind("now", Rows.column(now))
            .bind("node", nodeId);
    insert = Rows.bind(insert, "version", version, String.class);
    return Rows.bind(insert, "targets", tunnelTargets.column(grant.kind(), targets), String.class)
        .then();
  }

  /**
   * Marks the agent online at {@code nodeId}, with the targets it declares now in place of those it
   * declared before (kept for an edge node only); false when it is revoked or unknown.
   */
  public Mono<Boolean> connected(
      UUID id, String nodeId, AgentKind kind, List<TunnelTarget> targets) {
    LocalDateTime now = Rows.column(Rows.now());
    var update =
        db.sql(
                "UPDATE agents SET signal_node_id = :node, connected_at = :now, last_seen_at ="
                    + " :now, targets = :targets WHERE id = :id AND revoked_at IS NULL")
            .bind("node", nodeId)
            .bind("now", now)
            .bind("id", id.toString());
    return Rows.bind(update, "targets", tunnelTargets.column(kind, targets), String.class)
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /** Marks the agent offline, unless it has meanwhile connected to another node. */
  public Mono<Void> disconnected(UUID id, String nodeId) {
    return db.sql(
            "UPDATE agents SET signal_node_id = NULL, last_seen_at = :now"
                + " WHERE id = :id AND signal_node_id = :node")
        .bind("now", Rows.column(Rows.now()))
        .bind("id", id.toString())
        .bind("node", nodeId)
        .then();
  }

  /** Revokes the agent and takes it offline; false when it was already revoked. */
  public Mono<Boolean> revoke(UUID id) {
    return db.sql(
            "UPDATE agents SET revoked_at = :now, signal_node_id = NULL, last_seen_at = COALESCE("
                + "CASE WHEN signal_node_id IS NULL THEN last_seen_at END, :now)"
                + " WHERE id = :id AND revoked_at IS NULL")
        .bind("now", Rows.column(Rows.now()))
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /**
   * How many agents {@code nodeId} holds; for its heartbeat, which must not count every node's
   * agents.
   */
  public Mono<Long> heldBy(String nodeId) {
    return db.sql("SELECT COUNT(*) FROM agents WHERE signal_node_id = :node")
        .bind("node", nodeId)
        .map(row -> row.get(0, Long.class))
        .one();
  }

  /** Agents online at each node, for the node list. */
  public Mono<Map<String, Long>> onlineByNode() {
    return db.sql(
            "SELECT signal_node_id, COUNT(*) AS n FROM agents WHERE signal_node_id IS NOT NULL"
                + " GROUP BY signal_node_id")
        .map(row -> Map.entry(row.get(0, String.class), row.get(1, Long.class)))
        .all()
        .collectMap(Map.Entry::getKey, Map.Entry::getValue);
  }

  private AgentRow row(Readable row) {
    Instant nodeSeen = Rows.instant(row.get("node_seen", LocalDateTime.class));
    String node = row.get("signal_node_id", String.class);
    boolean online =
        node != null && nodeSeen != null && nodeSeen.isAfter(Rows.now().minus(nodeTimeout));
    return new AgentRow(
        UUID.fromString(row.get("id", String.class)),
        row.get("row_no", Long.class),
        row.get("name", String.class),
        AgentKind.fromValue(row.get("kind", String.class)),
        codec.labels(row.get("labels", String.class)),
        row.get("hostname", String.class),
        row.get("version", String.class),
        row.get("public_key", String.class),
        row.get("dtls_fingerprint", String.class),
        Rows.instant(row.get("enrolled_at", LocalDateTime.class)),
        Rows.instant(row.get("revoked_at", LocalDateTime.class)),
        node,
        online ? row.get("node_url", String.class) : null,
        online ? null : Rows.instant(row.get("last_seen_at", LocalDateTime.class)),
        online,
        tunnelTargets.parse(row.get("targets", String.class)));
  }
}
