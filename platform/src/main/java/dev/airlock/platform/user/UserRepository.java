package dev.airlock.platform.user;

import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Reads and writes users and their role assignments. */
@Repository
public class UserRepository {

  private static final String SELECT =
      "SELECT u.*, GROUP_CONCAT(ur.role_name ORDER BY ur.role_name SEPARATOR ',') AS role_names"
          + " FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id ";
  private static final String GROUP = " GROUP BY u.id";

  private final DatabaseClient db;
  private final RuleCodec codec;

  public UserRepository(DatabaseClient db, RuleCodec codec) {
    this.db = db;
    this.codec = codec;
  }

  public Mono<UserRow> findById(UUID id) {
    return db.sql(SELECT + "WHERE u.id = :id" + GROUP)
        .bind("id", id.toString())
        .map(this::row)
        .one();
  }

  public Mono<UserRow> findByUsername(String username) {
    return db.sql(SELECT + "WHERE u.username = :username" + GROUP)
        .bind("username", username)
        .map(this::row)
        .one();
  }

  /** Locks the user's row until the transaction ends, and reads it. */
  public Mono<UserRow> lock(UUID id) {
    return db.sql("SELECT id FROM users WHERE id = :id FOR UPDATE")
        .bind("id", id.toString())
        .map(row -> row.get(0, String.class))
        .one()
        .flatMap(found -> findById(id));
  }

  /** Up to {@code limit} users after position {@code after}, oldest first. */
  public Flux<UserRow> page(long after, int limit) {
    return db.sql(SELECT + "WHERE u.row_no > :after" + GROUP + " ORDER BY u.row_no LIMIT :limit")
        .bind("after", after)
        .bind("limit", limit)
        .map(this::row)
        .all();
  }

  /** The users a directory source created, enabled or not. */
  public Flux<UserRow> findByDirectorySource(UUID sourceId) {
    return db.sql(SELECT + "WHERE u.directory_source_id = :source" + GROUP + " ORDER BY u.row_no")
        .bind("source", sourceId.toString())
        .map(this::row)
        .all();
  }

  public Mono<Long> count() {
    return db.sql("SELECT COUNT(*) FROM users").map(row -> row.get(0, Long.class)).one();
  }

  public Mono<Void> insert(UserRow user) {
    var insert =
        db.sql(
                "INSERT INTO users (id, username, display_name, email, password_hash, labels,"
                    + " disabled, password_change_required, created_at, updated_at, source,"
                    + " directory_source_id, external_key) VALUES (:id, :username, :displayName,"
                    + " :email, :hash, :labels, :disabled, :pcr, :now, :now, :source, :sourceId,"
                    + " :externalKey)")
            .bind("id", user.id().toString())
            .bind("username", user.username())
            .bind("hash", user.passwordHash())
            .bind("labels", codec.labels(user.labels()))
            .bind("disabled", user.disabled())
            .bind("pcr", user.passwordChangeRequired())
            .bind("now", Rows.column(user.createdAt()))
            .bind("source", user.source());
    insert =
        Rows.bind(
            insert,
            "sourceId",
            user.directorySourceId() == null ? null : user.directorySourceId().toString(),
            String.class);
    insert = Rows.bind(insert, "externalKey", user.externalKey(), String.class);
    insert = Rows.bind(insert, "displayName", user.displayName(), String.class);
    insert = Rows.bind(insert, "email", user.email(), String.class);
    return insert.then().then(setRoles(user.id(), user.roles()));
  }

  /** Writes every profile field of {@code user} (not the password or the login counters). */
  public Mono<Void> updateProfile(UserRow user) {
    var update =
        db.sql(
                "UPDATE users SET display_name = :displayName, email = :email, labels = :labels,"
                    + " disabled = :disabled, updated_at = :now WHERE id = :id")
            .bind("id", user.id().toString())
            .bind("labels", codec.labels(user.labels()))
            .bind("disabled", user.disabled())
            .bind("now", Rows.column(user.updatedAt()));
    update = Rows.bind(update, "displayName", user.displayName(), String.class);
    update = Rows.bind(update, "email", user.email(), String.class);
    return update.then();
  }

  public Mono<Void> setPassword(UUID id, String hash, boolean changeRequired) {
    return db.sql(
            "UPDATE users SET password_hash = :hash, password_change_required = :pcr,"
                + " failed_logins = 0, locked_until = NULL, updated_at = :now WHERE id = :id")
        .bind("hash", hash)
        .bind("pcr", changeRequired)
        .bind("now", Rows.column(Rows.now()))
        .bind("id", id.toString())
        .then();
  }

  public Mono<Void> setRoles(UUID id, Collection<String> roles) {
    Mono<Void> clear =
        db.sql("DELETE FROM user_roles WHERE user_id = :id").bind("id", id.toString()).then();
    return clear.then(
        Flux.fromIterable(new java.util.TreeSet<>(roles))
            .concatMap(
                role ->
                    db.sql("INSERT INTO user_roles (user_id, role_name) VALUES (:id, :role)")
                        .bind("id", id.toString())
                        .bind("role", role)
                        .then())
            .then());
  }

  public Mono<Void> recordLoginFailure(UUID id, int failures, Instant lockedUntil) {
    return Rows.bind(
            db.sql(
                    "UPDATE users SET failed_logins = :failures, locked_until = :until"
                        + " WHERE id = :id")
                .bind("failures", failures)
                .bind("id", id.toString()),
            "until",
            Rows.column(lockedUntil),
            LocalDateTime.class)
        .then();
  }

  public Mono<Void> recordLoginSuccess(UUID id, Instant now) {
    return db.sql(
            "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = :now"
                + " WHERE id = :id")
        .bind("now", Rows.column(now))
        .bind("id", id.toString())
        .then();
  }

  public Mono<Long> delete(UUID id) {
    return db.sql("DELETE FROM users WHERE id = :id")
        .bind("id", id.toString())
        .fetch()
        .rowsUpdated();
  }

  private UserRow row(Readable row) {
    String roleNames = row.get("role_names", String.class);
    String sourceId = row.get("directory_source_id", String.class);
    return new UserRow(
        UUID.fromString(row.get("id", String.class)),
        row.get("row_no", Long.class),
        row.get("username", String.class),
        row.get("display_name", String.class),
        row.get("email", String.class),
        row.get("password_hash", String.class),
        codec.labels(row.get("labels", String.class)),
        Boolean.TRUE.equals(row.get("disabled", Boolean.class)),
        Boolean.TRUE.equals(row.get("password_change_required", Boolean.class)),
        row.get("failed_logins", Integer.class),
        Rows.instant(row.get("locked_until", LocalDateTime.class)),
        Rows.instant(row.get("created_at", LocalDateTime.class)),
        Rows.instant(row.get("updated_at", LocalDateTime.class)),
        Rows.instant(row.get("last_login_at", LocalDateTime.class)),
        roleNames == null ? List.of() : Arrays.asList(roleNames.split(",")),
        row.get("source", String.class),
        sourceId == null ? null : UUID.fromString(sourceId),
        row.get("external_key", String.class));
  }
}
