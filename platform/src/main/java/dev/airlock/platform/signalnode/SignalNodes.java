package dev.airlock.platform.signalnode;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.SignalNode;
import dev.airlock.platform.database.Rows;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The signal nodes that registered, and whether each renewed its registration recently. */
@Component
public class SignalNodes {

  private final DatabaseClient db;
  private final Duration timeout;

  public SignalNodes(DatabaseClient db, AirlockProperties properties) {
    this.db = db;
    this.timeout = properties.signal().nodeTimeout();
  }

  /** A node as stored. */
  public record Node(String id, String url, String adminUrl, Instant lastSeenAt, boolean online) {

    /** The node as the API shows it. */
    public SignalNode toApi(long agents) {
      SignalNode node = new SignalNode(id, url, online, Rows.offset(Rows.column(lastSeenAt)));
      node.setAgents((int) agents);
      return node;
    }
  }

  /** The client endpoint of the node whose base WebSocket URL is {@code url}. */
  public static String clientUrl(String url) {
    return url.replaceAll("/+$", "") + "/signal/v1/client";
  }

  /** Registers the node or renews its registration. */
  public Mono<Void> register(String id, String url, String adminUrl) {
    LocalDateTime now = Rows.column(Rows.now());
    return db.sql(
            "INSERT INTO signal_nodes (id, url, admin_url, registered_at, last_seen_at)"
                + " VALUES (:id, :url, :admin, :now, :now) ON DUPLICATE KEY UPDATE url = :url,"
                + " admin_url = :admin, last_seen_at = :now")
        .bind("id", id)
        .bind("url", url)
        .bind("admin", adminUrl)
        .bind("now", now)
        .then();
  }

  public Mono<Node> find(String id) {
    return db.sql("SELECT * FROM signal_nodes WHERE id = :id")
        .bind("id", id)
        .map(
            row -> {
              Instant seen = Rows.instant(row.get("last_seen_at", LocalDateTime.class));
              return new Node(
                  row.get("id", String.class),
                  row.get("url", String.class),
                  row.get("admin_url", String.class),
                  seen,
                  seen.isAfter(Rows.now().minus(timeout)));
            })
        .one();
  }

  public Flux<Node> all() {
    return db.sql("SELECT id FROM signal_nodes ORDER BY id")
        .map(row -> row.get(0, String.class))
        .all()
        .concatMap(this::find);
  }
}
