package dev.airlock.platform.image;

import dev.airlock.platform.api.model.ClipboardPolicy;
import dev.airlock.platform.api.model.ContainerResources;
import dev.airlock.platform.api.model.Image;
import dev.airlock.platform.api.model.ImageSpec;
import dev.airlock.platform.api.model.ImageVariable;
import dev.airlock.platform.api.model.IsolationLevel;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The {@code images} table. {@code warmReady} is counted from the warm containers' rows. */
@Component
public class ImageRepository {

  private static final String SELECT =
      "SELECT i.*, (SELECT COUNT(*) FROM containers c WHERE c.image_id = i.id AND c.warm"
          + " AND c.state = 'ready') AS warm_ready FROM images i ";

  private final DatabaseClient db;
  private final RuleCodec codec;
  private final JsonMapper json;

  public ImageRepository(DatabaseClient db, RuleCodec codec, JsonMapper json) {
    this.db = db;
    this.codec = codec;
    this.json = json;
  }

  public Mono<Image> findByName(String name) {
    return db.sql(SELECT + "WHERE i.name = :name").bind("name", name).map(this::image).one();
  }

  public Mono<Image> findById(UUID id) {
    return db.sql(SELECT + "WHERE i.id = :id").bind("id", id.toString()).map(this::image).one();
  }

  /** Images by name, after {@code after} (exclusive), at most {@code limit}. */
  public Flux<Image> page(String after, int limit) {
    return db.sql(SELECT + "WHERE i.name > :after ORDER BY i.name LIMIT :limit")
        .bind("after", after)
        .bind("limit", limit)
        .map(this::image)
        .all();
  }

  /** Images that want a warm pool. */
  public Flux<Image> withWarmPool() {
    return db.sql(SELECT + "WHERE i.warm_pool > 0").map(this::image).all();
  }

  public Mono<Void> insert(UUID id, ImageSpec spec) {
    GenericExecuteSpec insert =
        db.sql(
            "INSERT INTO images (id, name, description, reference, isolation, memory_bytes,"
                + " cpu_millis, pids, max_ttl_seconds, default_ttl_seconds, idle_timeout_seconds,"
                + " clipboard, environment, warm_pool, labels, created_at) VALUES (:id, :name,"
                + " :description, :reference, :isolation, :memory, :cpu, :pids, :maxTtl,"
                + " :defaultTtl, :idle, :clipboard, :environment, :warm, :labels, :now)");
    return bindSpec(insert.bind("id", id.toString()).bind("now", Rows.column(Rows.now())), spec)
        .then();
  }

  /** Replaces the definition; false when there is no image of that name. */
  public Mono<Boolean> update(String name, ImageSpec spec) {
    GenericExecuteSpec update =
        db.sql(
            "UPDATE images SET name = :name, description = :description, reference = :reference,"
                + " isolation = :isolation, memory_bytes = :memory, cpu_millis = :cpu, pids ="
                + " :pids, max_ttl_seconds = :maxTtl, default_ttl_seconds = :defaultTtl,"
                + " idle_timeout_seconds = :idle, clipboard = :clipboard, environment ="
                + " :environment, warm_pool = :warm, labels = :labels, updated_at = :now WHERE"
                + " name = :current");
    return bindSpec(update.bind("current", name).bind("now", Rows.column(Rows.now())), spec)
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  public Mono<Boolean> delete(UUID id) {
    return db.sql("DELETE FROM images WHERE id = :id")
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  private GenericExecuteSpec bindSpec(GenericExecuteSpec statement, ImageSpec spec) {
    ContainerResources resources = spec.getResources();
    GenericExecuteSpec s =
        statement
            .bind("name", spec.getName())
            .bind("reference", spec.getReference())
            .bind("isolation", isolation(spec).getValue())
            .bind("maxTtl", spec.getMaxTtlSeconds() == null ? 14_400 : spec.getMaxTtlSeconds())
            .bind(
                "defaultTtl",
                spec.getDefaultTtlSeconds() == null ? 3_600 : spec.getDefaultTtlSeconds())
            .bind("idle", spec.getIdleTimeoutSeconds() == null ? 900 : spec.getIdleTimeoutSeconds())
            .bind(
                "clipboard",
                (spec.getClipboard() == null ? ClipboardPolicy.NONE : spec.getClipboard())
                    .getValue())
            .bind(
                "environment",
                json.writeValueAsString(
                    spec.getEnvironment() == null ? List.of() : spec.getEnvironment()))
            .bind("warm", spec.getWarmPool() == null ? 0 : spec.getWarmPool())
            .bind("labels", codec.labels(spec.getLabels()));
    s = Rows.bind(s, "description", spec.getDescription(), String.class);
    s = Rows.bind(s, "memory", resources == null ? null : resources.getMemoryBytes(), Long.class);
    s = Rows.bind(s, "cpu", resources == null ? null : resources.getCpuMillis(), Integer.class);
    s = Rows.bind(s, "pids", resources == null ? null : resources.getPids(), Integer.class);
    return s;
  }

  private static IsolationLevel isolation(ImageSpec spec) {
    return spec.getIsolation() == null ? IsolationLevel.STANDARD : spec.getIsolation();
  }

  private Image image(Readable row) {
    ContainerResources resources = new ContainerResources();
    resources.setMemoryBytes(row.get("memory_bytes", Long.class));
    resources.setCpuMillis(row.get("cpu_millis", Integer.class));
    resources.setPids(row.get("pids", Integer.class));
    List<ImageVariable> environment =
        new ArrayList<>(
            json.readValue(
                row.get("environment", String.class), new TypeReference<List<ImageVariable>>() {}));
    Image image =
        new Image(
            UUID.fromString(row.get("id", String.class)),
            row.get("name", String.class),
            row.get("reference", String.class),
            IsolationLevel.fromValue(row.get("isolation", String.class)),
            row.get("max_ttl_seconds", Integer.class),
            row.get("default_ttl_seconds", Integer.class),
            row.get("idle_timeout_seconds", Integer.class),
            ClipboardPolicy.fromValue(row.get("clipboard", String.class)),
            environment,
            row.get("warm_pool", Integer.class),
            row.get("warm_ready", Long.class).intValue(),
            codec.labels(row.get("labels", String.class)),
            Rows.offset(row.get("created_at", LocalDateTime.class)));
    image.setDescription(row.get("description", String.class));
    image.setResources(resources);
    image.setUpdatedAt(Rows.offset(row.get("updated_at", LocalDateTime.class)));
    return image;
  }
}
