package dev.airlock.platform.container;

import dev.airlock.platform.api.model.ContainerState;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code containers} table. Every state change is one conditional UPDATE on the state it
 * leaves, so concurrent actors (a request, the reaper, an agent enrolling, another replica) cannot
 * both move a container.
 */
@Component
public class ContainerRepository {

  private static final String SELECT =
      "SELECT c.*, p.name AS provisioner_name FROM containers c"
          + " LEFT JOIN provisioners p ON p.id = c.provisioner_id ";
  private static final String LIVE = "c.state NOT IN ('deleted', 'failed')";

  private final DatabaseClient db;
  private final RuleCodec codec;

  public ContainerRepository(DatabaseClient db, RuleCodec codec) {
    this.db = db;
    this.codec = codec;
  }

  /** A new container in {@code requested} (or a warm one, owner null). */
  public Mono<Void> insert(
      UUID id,
      UUID imageId,
      String imageName,
      UUID ownerId,
      String ownerName,
      String idempotencyKey,
      Map<String, String> labels,
      int ttlSeconds,
      int idleTimeoutSeconds,
      Instant expiresAt) {
    GenericExecuteSpec insert =
        db.sql(
                "INSERT INTO containers (id, image_id, image_name, owner_id, owner_name,"
                    + " idempotency_key, warm, state, labels, ttl_seconds, idle_timeout_seconds,"
                    + " created_at, expires_at) VALUES (:id, :image, :imageName, :owner,"
                    + " :ownerName, :key, :warm, 'requested', :labels, :ttl, :idle, :now,"
                    + " :expires)")
            .bind("id", id.toString())
            .bind("image", imageId.toString())
            .bind("imageName", imageName)
            .bind("warm", ownerId == null)
            .bind("labels", codec.labels(labels))
            .bind("ttl", ttlSeconds)
            .bind("idle", idleTimeoutSeconds)
            .bind("now", Rows.column(Rows.now()))
            .bind("expires", Rows.column(expiresAt));
    insert = Rows.bind(insert, "owner", ownerId == null ? null : ownerId.toString(), String.class);
    insert = Rows.bind(insert, "ownerName", ownerName, String.class);
    insert = Rows.bind(insert, "key", idempotencyKey, String.class);
    return insert.then();
  }

  public Mono<ContainerRow> find(UUID id) {
    return db.sql(SELECT + "WHERE c.id = :id").bind("id", id.toString()).map(this::row).one();
  }

  /** The container an earlier request with this key created, within {@code window}. */
  public Mono<ContainerRow> findByKey(UUID ownerId, String key, Duration window) {
    return db.sql(
            SELECT
                + "WHERE c.owner_id = :owner AND c.idempotency_key = :key AND c.created_at >"
                + " :since")
        .bind("owner", ownerId.toString())
        .bind("key", key)
        .bind("since", Rows.column(Rows.now().minus(window)))
        .map(this::row)
        .one();
  }

  /** The container whose agent this is, if any. */
  public Mono<ContainerRow> findByAgent(UUID agentId) {
    return db.sql(SELECT + "WHERE c.agent_id = :agent")
        .bind("agent", agentId.toString())
        .map(this::row)
        .one();
  }

  /**
   * Containers newest first, before row {@code before}; only {@code ownerId}'s when it is not null;
   * warm containers are never listed.
   */
  public Flux<ContainerRow> page(
      UUID ownerId, ContainerState state, Boolean active, long before, int limit) {
    StringBuilder where = new StringBuilder("WHERE NOT c.warm AND c.row_no < :before");
    if (ownerId != null) {
      where.append(" AND c.owner_id = :owner");
    }
    if (state != null) {
      where.append(" AND c.state = :state");
    }
    if (active != null) {
      where.append(active ? " AND " + LIVE : " AND NOT (" + LIVE + ")");
    }
    GenericExecuteSpec query =
        db.sql(SELECT + where + " ORDER BY c.row_no DESC LIMIT :limit")
            .bind("before", before)
            .bind("limit", limit);
    if (ownerId != null) {
      query = query.bind("owner", ownerId.toString());
    }
    if (state != null) {
      query = query.bind("state", state.getValue());
    }
    return query.map(this::row).all();
  }

  /** Locks the user's row until the current transaction ends (quota checks one at a time). */
  public Mono<Void> lockOwner(UUID ownerId) {
    return db.sql("SELECT id FROM users WHERE id = :id FOR UPDATE")
        .bind("id", ownerId.toString())
        .map(row -> row.get("id", String.class))
        .all()
        .then();
  }

  /** Live containers the user holds (their quota). */
  public Mono<Long> countLive(UUID ownerId) {
    return db.sql("SELECT COUNT(*) AS n FROM containers c WHERE c.owner_id = :owner AND " + LIVE)
        .bind("owner", ownerId.toString())
        .map(row -> row.get("n", Long.class))
        .one();
  }

  /** Moves the container from one of {@code from} to {@code to}; false when it was elsewhere. */
  public Mono<Boolean> transition(
      UUID id, Set<ContainerState> from, ContainerState to, String reason) {
    boolean ends = to == ContainerState.DELETED || to == ContainerState.FAILED;
    GenericExecuteSpec update =
        db.sql(
                "UPDATE containers SET state = :to, reason = COALESCE(:reason, reason)"
                    + (ends ? ", ended_at = :now" : "")
                    + " WHERE id = :id AND state IN ("
                    + from.stream()
                        .map(s -> "'" + s.getValue() + "'")
                        .collect(Collectors.joining(", "))
                    + ")")
            .bind("to", to.getValue())
            .bind("id", id.toString());
    if (ends) {
      update = update.bind("now", Rows.column(Rows.now()));
    }
    update = Rows.bind(update, "reason", reason, String.class);
    return update.fetch().rowsUpdated().map(n -> n > 0);
  }

  /** Records where the container is being created, with the join token its agent will use. */
  public Mono<Boolean> provisioning(UUID id, UUID provisionerId, UUID joinTokenId) {
    return db.sql(
            "UPDATE containers SET state = 'provisioning', provisioner_id = :provisioner,"
                + " join_token_id = :token WHERE id = :id AND state IN ('requested',"
                + " 'provisioning')")
        .bind("provisioner", provisionerId.toString())
        .bind("token", joinTokenId.toString())
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /**
   * The agent enrolled with the container's join token: the container is ready. Emits the container
   * when this made it ready.
   */
  public Mono<ContainerRow> ready(UUID joinTokenId, UUID agentId) {
    return db.sql(
            "UPDATE containers SET state = 'ready', agent_id = :agent, ready_at = :now WHERE"
                + " join_token_id = :token AND state IN ('provisioning', 'starting')")
        .bind("agent", agentId.toString())
        .bind("now", Rows.column(Rows.now()))
        .bind("token", joinTokenId.toString())
        .fetch()
        .rowsUpdated()
        .filter(n -> n > 0)
        .flatMap(
            n ->
                db.sql(SELECT + "WHERE c.join_token_id = :token")
                    .bind("token", joinTokenId.toString())
                    .map(this::row)
                    .one());
  }

  /**
   * Hands the oldest ready warm container of the image to {@code ownerId}: one UPDATE, so two
   * requests never get the same one. Emits it, or nothing when none is ready.
   */
  public Mono<ContainerRow> claimWarm(
      UUID imageId,
      UUID ownerId,
      String ownerName,
      String claimKey,
      Map<String, String> labels,
      int ttlSeconds,
      int idleTimeoutSeconds,
      Instant expiresAt) {
    return db.sql(
            "UPDATE containers SET owner_id = :owner, owner_name = :ownerName, idempotency_key ="
                + " :key, warm = FALSE, from_warm_pool = TRUE, labels = :labels, ttl_seconds ="
                + " :ttl, idle_timeout_seconds = :idle, expires_at = :expires, ready_at = :now"
                + " WHERE image_id = :image AND warm AND state = 'ready' ORDER BY row_no LIMIT 1")
        .bind("owner", ownerId.toString())
        .bind("ownerName", ownerName)
        .bind("key", claimKey)
        .bind("labels", codec.labels(labels))
        .bind("ttl", ttlSeconds)
        .bind("idle", idleTimeoutSeconds)
        .bind("expires", Rows.column(expiresAt))
        .bind("now", Rows.column(Rows.now()))
        .bind("image", imageId.toString())
        .fetch()
        .rowsUpdated()
        .filter(n -> n > 0)
        .flatMap(
            n ->
                db.sql(SELECT + "WHERE c.owner_id = :owner AND c.idempotency_key = :key")
                    .bind("owner", ownerId.toString())
                    .bind("key", claimKey)
                    .map(this::row)
                    .one());
  }

  /** Warm containers of each image that are not failed or deleted, by image id. */
  public Mono<Map<UUID, Long>> warmCounts() {
    return db.sql(
            "SELECT image_id, COUNT(*) AS n FROM containers c WHERE c.warm AND "
                + LIVE
                + " GROUP BY image_id")
        .map(
            row ->
                Map.entry(
                    UUID.fromString(row.get("image_id", String.class)), row.get("n", Long.class)))
        .all()
        .collectMap(Map.Entry::getKey, Map.Entry::getValue);
  }

  /** Live owned containers past their expiry. */
  public Flux<ContainerRow> expired(Instant now) {
    return db.sql(
            SELECT
                + "WHERE c.state IN ('requested', 'provisioning', 'starting',"
                + " 'ready') AND c.expires_at <= :now")
        .bind("now", Rows.column(now))
        .map(this::row)
        .all();
  }

  /**
   * Ready containers without a live session for longer than their idle timeout (counted from when
   * they became ready or their last session ended).
   */
  public Flux<ContainerRow> idle(Instant now) {
    return db.sql(
            SELECT
                + "WHERE NOT c.warm AND c.state = 'ready' AND c.idle_timeout_seconds > 0 AND NOT"
                + " EXISTS (SELECT 1 FROM remote_sessions s WHERE s.agent_id = c.agent_id AND"
                + " (s.state = 'active' OR (s.state = 'pending' AND s.token_expires_at > :now)))"
                + " AND TIMESTAMPADD(SECOND, c.idle_timeout_seconds, GREATEST(c.ready_at,"
                + " COALESCE((SELECT MAX(s.ended_at) FROM remote_sessions s WHERE s.agent_id ="
                + " c.agent_id), c.ready_at))) <= :now")
        .bind("now", Rows.column(now))
        .map(this::row)
        .all();
  }

  /** Containers still not ready {@code timeout} after they were requested. */
  public Flux<ContainerRow> stuck(Instant now, Duration timeout) {
    return db.sql(
            SELECT
                + "WHERE c.state IN ('requested', 'provisioning', 'starting') AND c.created_at <="
                + " :cutoff")
        .bind("cutoff", Rows.column(now.minus(timeout)))
        .map(this::row)
        .all();
  }

  /** Containers left in {@code stopping} (their removal failed or was interrupted). */
  public Flux<ContainerRow> stopping() {
    return db.sql(SELECT + "WHERE c.state = 'stopping'").map(this::row).all();
  }

  /** Rows that should have a container on the provisioner (placed there, not yet ended). */
  public Flux<ContainerRow> placedOn(UUID provisionerId) {
    return db.sql(
            SELECT + "WHERE c.provisioner_id = :provisioner AND c.state IN ('starting', 'ready')")
        .bind("provisioner", provisionerId.toString())
        .map(this::row)
        .all();
  }

  /** Ids of the rows of these keys that are live (for orphan detection). */
  public Flux<UUID> liveAmong(Collection<UUID> ids) {
    if (ids.isEmpty()) {
      return Flux.empty();
    }
    return db.sql("SELECT id FROM containers c WHERE c.id IN (:ids) AND " + LIVE)
        .bind("ids", ids.stream().map(UUID::toString).toList())
        .map(row -> UUID.fromString(row.get("id", String.class)))
        .all();
  }

  /** Warm containers beyond what their image wants now (or of images gone), oldest first. */
  public Flux<ContainerRow> surplusWarm() {
    return db.sql(
            SELECT
                + "LEFT JOIN images i ON i.id = c.image_id WHERE c.warm AND "
                + LIVE
                + " AND (i.id IS NULL OR (SELECT COUNT(*) FROM containers w WHERE w.image_id ="
                + " c.image_id AND w.warm AND w.state NOT IN ('deleted', 'failed') AND w.row_no <"
                + " c.row_no) >= i.warm_pool)")
        .map(this::row)
        .all();
  }

  private ContainerRow row(Readable row) {
    return new ContainerRow(
        UUID.fromString(row.get("id", String.class)),
        row.get("row_no", Long.class),
        UUID.fromString(row.get("image_id", String.class)),
        row.get("image_name", String.class),
        uuid(row.get("owner_id", String.class)),
        row.get("owner_name", String.class),
        Boolean.TRUE.equals(row.get("warm", Boolean.class)),
        Boolean.TRUE.equals(row.get("from_warm_pool", Boolean.class)),
        ContainerState.fromValue(row.get("state", String.class)),
        row.get("reason", String.class),
        codec.labels(row.get("labels", String.class)),
        uuid(row.get("provisioner_id", String.class)),
        row.get("provisioner_name", String.class),
        uuid(row.get("join_token_id", String.class)),
        uuid(row.get("agent_id", String.class)),
        row.get("ttl_seconds", Integer.class),
        Rows.instant(row.get("created_at", LocalDateTime.class)),
        Rows.instant(row.get("ready_at", LocalDateTime.class)),
        Rows.instant(row.get("expires_at", LocalDateTime.class)),
        Rows.instant(row.get("ended_at", LocalDateTime.class)));
  }

  private static UUID uuid(String value) {
    return value == null ? null : UUID.fromString(value);
  }
}
