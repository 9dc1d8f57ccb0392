package dev.airlock.platform.agent;

import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.JoinToken;
import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Join tokens: secrets ({@code alj_…}, only their SHA-256 stored) that let a limited number of
 * agents enrol until they expire. Spending a use is one conditional UPDATE, so concurrent
 * enrolments on several platform replicas can never exceed {@code maxUses}.
 */
@Component
public class JoinTokens {

  /** The prefix of every join token. */
  public static final String PREFIX = "alj_";

  private final DatabaseClient db;
  private final RuleCodec codec;

  public JoinTokens(DatabaseClient db, RuleCodec codec) {
    this.db = db;
    this.codec = codec;
  }

  /** What an enrolment with a token grants the new agent. */
  public record Grant(UUID tokenId, AgentKind kind, Map<String, String> labels) {}

  /** A stored token and its row number, for paging. */
  public record Row(long rowNo, JoinToken token) {}

  /** Creates a token; emits its secret, which is not stored. */
  public Mono<String> create(
      UUID id,
      AgentKind kind,
      Map<String, String> labels,
      String description,
      int maxUses,
      Instant expiresAt,
      String createdBy) {
    String secret = Secrets.token(PREFIX);
    var insert =
        db.sql(
                "INSERT INTO agent_join_tokens (id, secret_hash, kind, labels, description,"
                    + " max_uses, created_by, created_at, expires_at) VALUES (:id, :hash, :kind,"
                    + " :labels, :description, :max, :by, :now, :expires)")
            .bind("id", id.toString())
            .bind("hash", Secrets.sha256(secret))
            .bind("kind", kind.getValue())
            .bind("labels", codec.labels(labels))
            .bind("max", maxUses)
            .bind("by", createdBy)
            .bind("now", Rows.column(Rows.now()))
            .bind("expires", Rows.column(expiresAt));
    return Rows.bind(insert, "description", description, String.class).then().thenReturn(secret);
  }

  public Mono<Row> find(UUID id) {
    return db.sql("SELECT * FROM agent_join_tokens WHERE id = :id")
        .bind("id", id.toString())
        .map(this::row)
        .one();
  }

  public Flux<Row> page(long after, int limit) {
    return db.sql(
            "SELECT * FROM agent_join_tokens WHERE row_no > :after ORDER BY row_no LIMIT :limit")
        .bind("after", after)
        .bind("limit", limit)
        .map(this::row)
        .all();
  }

  /** Revokes the token; false when it was already revoked. */
  public Mono<Boolean> revoke(UUID id) {
    return db.sql(
            "UPDATE agent_join_tokens SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL")
        .bind("now", Rows.column(Rows.now()))
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /**
   * Spends one use of {@code secret}; emits what it grants, or nothing when the token is unknown,
   * expired, revoked or used up.
   */
  public Mono<Grant> spend(String secret) {
    String hash = Secrets.sha256(secret);
    return db.sql(
            "UPDATE agent_join_tokens SET uses = uses + 1 WHERE secret_hash = :hash"
                + " AND revoked_at IS NULL AND expires_at > :now AND uses < max_uses")
        .bind("hash", hash)
        .bind("now", Rows.column(Rows.now()))
        .fetch()
        .rowsUpdated()
        .filter(n -> n > 0)
        .flatMap(
            spent ->
                db.sql("SELECT id, kind, labels FROM agent_join_tokens WHERE secret_hash = :hash")
                    .bind("hash", hash)
                    .map(
                        row ->
                            new Grant(
                                UUID.fromString(row.get("id", String.class)),
                                AgentKind.fromValue(row.get("kind", String.class)),
                                codec.labels(row.get("labels", String.class))))
                    .one());
  }

  private Row row(Readable row) {
    JoinToken token =
        new JoinToken(
            UUID.fromString(row.get("id", String.class)),
            AgentKind.fromValue(row.get("kind", String.class)),
            codec.labels(row.get("labels", String.class)),
            row.get("max_uses", Integer.class),
            row.get("uses", Integer.class),
            Rows.offset(row.get("created_at", LocalDateTime.class)),
            Rows.offset(row.get("expires_at", LocalDateTime.class)),
            row.get("revoked_at", LocalDateTime.class) != null);
    token.setDescription(row.get("description", String.class));
    token.setCreatedBy(row.get("created_by", String.class));
    return new Row(row.get("row_no", Long.class), token);
  }
}
