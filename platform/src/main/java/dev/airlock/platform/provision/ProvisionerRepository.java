package dev.airlock.platform.provision;

import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The {@code provisioners} table, and how many live containers each one holds. */
@Component
public class ProvisionerRepository {

  private final DatabaseClient db;
  private final RuleCodec codec;

  public ProvisionerRepository(DatabaseClient db, RuleCodec codec) {
    this.db = db;
    this.codec = codec;
  }

  public Flux<ProvisionerRow> all() {
    return db.sql("SELECT * FROM provisioners ORDER BY name").map(this::row).all();
  }

  public Mono<ProvisionerRow> findByName(String name) {
    return db.sql("SELECT * FROM provisioners WHERE name = :name")
        .bind("name", name)
        .map(this::row)
        .one();
  }

  public Mono<ProvisionerRow> findById(UUID id) {
    return db.sql("SELECT * FROM provisioners WHERE id = :id")
        .bind("id", id.toString())
        .map(this::row)
        .one();
  }

  public Mono<Void> insert(
      UUID id, String name, String url, Map<String, String> labels, int maxContainers) {
    return db.sql(
            "INSERT INTO provisioners (id, name, url, labels, max_containers, created_at) VALUES"
                + " (:id, :name, :url, :labels, :max, :now)")
        .bind("id", id.toString())
        .bind("name", name)
        .bind("url", url)
        .bind("labels", codec.labels(labels))
        .bind("max", maxContainers)
        .bind("now", Rows.column(Rows.now()))
        .then();
  }

  public Mono<Void> mode(UUID id, String mode) {
    return db.sql(
            "UPDATE provisioners SET mode = :mode WHERE id = :id AND (mode IS NULL OR mode <> :mode)")
        .bind("mode", mode)
        .bind("id", id.toString())
        .then();
  }

  public Mono<Boolean> delete(UUID id) {
    return db.sql("DELETE FROM provisioners WHERE id = :id")
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated()
        .map(n -> n > 0);
  }

  /** Live (not deleted or failed) containers per provisioner id. */
  public Mono<Map<UUID, Integer>> running() {
    return db.sql(
            "SELECT provisioner_id, COUNT(*) AS n FROM containers WHERE provisioner_id IS NOT NULL"
                + " AND state NOT IN ('deleted', 'failed') GROUP BY provisioner_id")
        .map(
            row ->
                Map.entry(
                    UUID.fromString(row.get("provisioner_id", String.class)),
                    row.get("n", Long.class).intValue()))
        .all()
        .collectMap(Map.Entry::getKey, Map.Entry::getValue);
  }

  private ProvisionerRow row(Readable row) {
    return new ProvisionerRow(
        UUID.fromString(row.get("id", String.class)),
        row.get("name", String.class),
        row.get("url", String.class),
        codec.labels(row.get("labels", String.class)),
        row.get("max_containers", Integer.class),
        row.get("mode", String.class),
        Rows.instant(row.get("created_at", LocalDateTime.class)));
  }
}
