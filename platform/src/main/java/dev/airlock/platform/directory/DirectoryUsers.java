package dev.airlock.platform.directory;

import dev.airlock.platform.database.Rows;
import dev.airlock.platform.user.SessionRevoker;
import dev.airlock.platform.user.UserRow;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Repository;
import reactor.core.publisher.Mono;

/**
 * What a directory changes on its users' rows: their profile, their link to the entry, and being
 * disabled because the directory no longer has them (which a later sync that finds them undoes,
 * unlike an administrator's disabling).
 */
@Repository
public class DirectoryUsers {

  private final DatabaseClient db;
  private final SessionRevoker sessions;

  public DirectoryUsers(DatabaseClient db, SessionRevoker sessions) {
    this.db = db;
    this.sessions = sessions;
  }

  /**
   * The users of {@code source} (or left behind by a removed source of its name) that are disabled
   * because the directory stopped having them.
   */
  public Mono<Set<UUID>> disabledByDirectory(DirectorySourceRow source) {
    return db.sql(
            "SELECT id FROM users WHERE (directory_source_id = :source OR (directory_source_id IS"
                + " NULL AND source = :name)) AND directory_disabled = TRUE")
        .bind("source", source.id().toString())
        .bind("name", source.userSource())
        .map(row -> UUID.fromString(row.get("id", String.class)))
        .all()
        .collect(HashSet::new, Set::add);
  }

  /**
   * Writes what the directory says of a user: name, display name, e-mail, and whether it is enabled
   * ({@code directoryDisabled} is only ever set together with {@code disabled}).
   */
  public Mono<Void> update(
      UUID id, String username, String displayName, String email, boolean disabled) {
    var update =
        db.sql(
                "UPDATE users SET username = :username, display_name = :displayName, email ="
                    + " :email, disabled = :disabled, directory_disabled = CASE WHEN :disabled"
                    + " THEN directory_disabled ELSE FALSE END, updated_at = :now WHERE id = :id")
            .bind("username", username)
            .bind("disabled", disabled)
            .bind("now", Rows.column(Rows.now()))
            .bind("id", id.toString());
    update = Rows.bind(update, "displayName", displayName, String.class);
    update = Rows.bind(update, "email", email, String.class);
    return update.then();
  }

  /** Links a user left behind by a removed source of the same name to {@code sourceId} again. */
  public Mono<Void> adopt(UUID id, UUID sourceId) {
    return db.sql("UPDATE users SET directory_source_id = :source WHERE id = :id")
        .bind("source", sourceId.toString())
        .bind("id", id.toString())
        .then();
  }

  /**
   * Disables {@code user} because its directory no longer has it (or was removed), and shuts the
   * account off (login sessions, API keys, live remote sessions: {@link SessionRevoker#endAccess}),
   * in the caller's transaction. Emits the remote sessions to cut once committed.
   */
  public Mono<List<SessionRevoker.LiveSession>> disable(UserRow user, String reason) {
    return db.sql(
            "UPDATE users SET disabled = TRUE, directory_disabled = TRUE, updated_at = :now"
                + " WHERE id = :id")
        .bind("now", Rows.column(Rows.now()))
        .bind("id", user.id().toString())
        .then()
        .then(sessions.endAccess(user.id(), reason));
  }
}
