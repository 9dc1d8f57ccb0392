package dev.airlock.platform.directory;

import dev.airlock.platform.database.Rows;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The {@code directory_sources} table. */
@Repository
public class DirectorySources {

  private static final TypeReference<Map<String, List<String>>> GROUP_ROLES =
      new TypeReference<>() {};
  private static final TypeReference<List<String>> NAMES = new TypeReference<>() {};
  private static final String SELECT =
      "SELECT s.*, (SELECT COUNT(*) FROM users u WHERE u.directory_source_id = s.id) AS user_count"
          + " FROM directory_sources s ";

  private final DatabaseClient db;
  private final JsonMapper json;

  public DirectorySources(DatabaseClient db, JsonMapper json) {
    this.db = db;
    this.json = json;
  }

  /** Every source, oldest first. */
  public Flux<DirectorySourceRow> all() {
    return db.sql(SELECT + "ORDER BY s.row_no").map(this::row).all();
  }

  public Mono<DirectorySourceRow> findByName(String name) {
    return db.sql(SELECT + "WHERE s.name = :name").bind("name", name).map(this::row).one();
  }

  public Mono<DirectorySourceRow> findById(UUID id) {
    return db.sql(SELECT + "WHERE s.id = :id").bind("id", id.toString()).map(this::row).one();
  }

  public Mono<Void> insert(DirectorySourceRow source) {
    var insert =
        db.sql(
            "INSERT INTO directory_sources (id, name, url, start_tls, allow_plaintext,"
                + " ca_certificate, bind_dn, bind_password, user_base, user_filter, group_base,"
                + " group_filter, attributes, group_roles, default_roles, enabled, created_at,"
                + " updated_at) VALUES (:id, :name, :url, :startTls, :allowPlaintext, :ca,"
                + " :bindDn, :bindPassword, :userBase, :userFilter, :groupBase, :groupFilter,"
                + " :attributes, :groupRoles, :defaultRoles, :enabled, :now, :now)");
    return settings(insert, source).bind("now", Rows.column(source.createdAt())).then();
  }

  /** Writes every setting of {@code source} (not its sync state). */
  public Mono<Void> update(DirectorySourceRow source) {
    var update =
        db.sql(
            "UPDATE directory_sources SET name = :name, url = :url, start_tls = :startTls,"
                + " allow_plaintext = :allowPlaintext, ca_certificate = :ca, bind_dn = :bindDn,"
                + " bind_password = :bindPassword, user_base = :userBase, user_filter ="
                + " :userFilter, group_base = :groupBase, group_filter = :groupFilter, attributes"
                + " = :attributes, group_roles = :groupRoles, default_roles = :defaultRoles,"
                + " enabled = :enabled, updated_at = :now WHERE id = :id");
    return settings(update, source).bind("now", Rows.column(source.updatedAt())).then();
  }

  /** Records a successful sync of {@code id}: its time, and no error. */
  public Mono<Void> synced(UUID id, Instant at) {
    return db.sql(
            "UPDATE directory_sources SET last_sync_at = :at, last_sync_error = NULL WHERE id ="
                + " :id")
        .bind("at", Rows.column(at))
        .bind("id", id.toString())
        .then();
  }

  /** Records why the last sync of {@code id} failed (a message without secrets). */
  public Mono<Void> failed(UUID id, String error) {
    return db.sql("UPDATE directory_sources SET last_sync_error = :error WHERE id = :id")
        .bind("error", error.length() <= 1024 ? error : error.substring(0, 1024))
        .bind("id", id.toString())
        .then();
  }

  public Mono<Long> delete(UUID id) {
    return db.sql("DELETE FROM directory_sources WHERE id = :id")
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated();
  }

  private DatabaseClient.GenericExecuteSpec settings(
      DatabaseClient.GenericExecuteSpec spec, DirectorySourceRow s) {
    spec =
        spec.bind("id", s.id().toString())
            .bind("name", s.name())
            .bind("url", s.url())
            .bind("startTls", s.startTls())
            .bind("allowPlaintext", s.allowPlaintext())
            .bind("bindDn", s.bindDn())
            .bind("bindPassword", s.sealedBindPassword())
            .bind("userBase", s.userBase())
            .bind("userFilter", s.userFilter())
            .bind("groupFilter", s.groupFilter())
            .bind("attributes", json.writeValueAsString(s.attributes()))
            .bind("groupRoles", json.writeValueAsString(s.groupRoles()))
            .bind("defaultRoles", json.writeValueAsString(s.defaultRoles()))
            .bind("enabled", s.enabled());
    spec = Rows.bind(spec, "ca", s.caCertificate(), String.class);
    return Rows.bind(spec, "groupBase", s.groupBase(), String.class);
  }

  private DirectorySourceRow row(Readable row) {
    return new DirectorySourceRow(
        UUID.fromString(row.get("id", String.class)),
        row.get("name", String.class),
        row.get("url", String.class),
        Boolean.TRUE.equals(row.get("start_tls", Boolean.class)),
        Boolean.TRUE.equals(row.get("allow_plaintext", Boolean.class)),
        row.get("ca_certificate", String.class),
        row.get("bind_dn", String.class),
        row.get("bind_password", String.class),
        row.get("user_base", String.class),
        row.get("user_filter", String.class),
        row.get("group_base", String.class),
        row.get("group_filter", String.class),
        json.readValue(row.get("attributes", String.class), DirectorySourceRow.Mapping.class),
        json.readValue(row.get("group_roles", String.class), GROUP_ROLES),
        json.readValue(row.get("default_roles", String.class), NAMES),
        Boolean.TRUE.equals(row.get("enabled", Boolean.class)),
        Rows.instant(row.get("created_at", LocalDateTime.class)),
        Rows.instant(row.get("updated_at", LocalDateTime.class)),
        Rows.instant(row.get("last_sync_at", LocalDateTime.class)),
        row.get("last_sync_error", String.class),
        row.get("user_count", Long.class).intValue());
  }
}
