package dev.airlock.platform.role;

import dev.airlock.platform.api.model.Role;
import dev.airlock.platform.api.model.Rule;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.RuleCodec;
import io.r2dbc.spi.Readable;
import java.time.LocalDateTime;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Reads and writes roles. */
@Repository
public class RoleRepository {

  private final DatabaseClient db;
  private final RuleCodec codec;

  public RoleRepository(DatabaseClient db, RuleCodec codec) {
    this.db = db;
    this.codec = codec;
  }

  public Mono<Role> find(String name) {
    return db.sql("SELECT * FROM roles WHERE name = :name").bind("name", name).map(this::row).one();
  }

  /** Roles named after {@code after}, by name. */
  public Flux<Role> page(String after, int limit) {
    return db.sql("SELECT * FROM roles WHERE name > :after ORDER BY name LIMIT :limit")
        .bind("after", after)
        .bind("limit", limit)
        .map(this::row)
        .all();
  }

  /** The names among {@code names} that are not roles. */
  public Mono<Set<String>> missing(Collection<String> names) {
    if (names.isEmpty()) {
      return Mono.just(Set.of());
    }
    return db.sql("SELECT name FROM roles WHERE name IN (:names)")
        .bind("names", List.copyOf(names))
        .map(row -> row.get(0, String.class))
        .all()
        .collectList()
        .map(
            found -> {
              Set<String> missing = new TreeSet<>(names);
              missing.removeAll(found);
              return missing;
            });
  }

  public Mono<Void> insert(String name, String description, List<Rule> rules) {
    var now = Rows.column(Rows.now());
    return Rows.bind(
            db.sql(
                    "INSERT INTO roles (name, description, rules, built_in, created_at,"
                        + " updated_at) VALUES (:name, :description, :rules, FALSE, :now, :now)")
                .bind("name", name)
                .bind("rules", codec.rules(rules))
                .bind("now", now),
            "description",
            description,
            String.class)
        .then();
  }

  public Mono<Void> replace(String name, String description, List<Rule> rules) {
    return Rows.bind(
            db.sql(
                    "UPDATE roles SET description = :description, rules = :rules,"
                        + " updated_at = :now WHERE name = :name")
                .bind("name", name)
                .bind("rules", codec.rules(rules))
                .bind("now", Rows.column(Rows.now())),
            "description",
            description,
            String.class)
        .then();
  }

  /** How many users and API keys hold the role. */
  public Mono<Long> holders(String name) {
    return db.sql(
            "SELECT (SELECT COUNT(*) FROM user_roles WHERE role_name = :name)"
                + " + (SELECT COUNT(*) FROM api_key_roles WHERE role_name = :name)")
        .bind("name", name)
        .map(row -> ((Number) row.get(0)).longValue())
        .one();
  }

  public Mono<Void> delete(String name) {
    return db.sql("DELETE FROM roles WHERE name = :name").bind("name", name).then();
  }

  private Role row(Readable row) {
    Role role =
        new Role(
            row.get("name", String.class),
            codec.rules(row.get("rules", String.class)),
            Boolean.TRUE.equals(row.get("built_in", Boolean.class)),
            Rows.offset(row.get("created_at", LocalDateTime.class)),
            Rows.offset(row.get("updated_at", LocalDateTime.class)));
    role.setDescription(row.get("description", String.class));
    return role;
  }
}
