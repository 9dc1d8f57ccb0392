package dev.airlock.platform.user;

import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.PasswordHasher;
import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.database.Rows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Built-in accounts for services on the same host (a local signal node, a trusted cluster's link):
 * at start, when the service's key file does not exist, makes sure the account exists (its role, a
 * random password nobody is told), gives it a new API key and writes that key to the file (mode
 * 0600).
 */
@Component
public class ServiceAccountKeys {

  /**
   * One built-in account.
   *
   * @param username its name, also the name of its role unless {@code role} says otherwise
   * @param role the role its key carries
   * @param fullName what the account is, as users are listed
   * @param keyName the key's name (e.g. {@code local signal node})
   */
  public record Account(String username, String role, String fullName, String keyName) {}

  private final UserRepository users;
  private final PasswordHasher hasher;
  private final DatabaseClient db;
  private final AuditLog audit;
  private final TransactionalOperator tx;

  public ServiceAccountKeys(
      UserRepository users,
      PasswordHasher hasher,
      DatabaseClient db,
      AuditLog audit,
      TransactionalOperator tx) {
    this.users = users;
    this.hasher = hasher;
    this.db = db;
    this.audit = audit;
    this.tx = tx;
  }

  /** Writes {@code account}'s key to {@code file} unless the file exists; emits the file. */
  public Mono<Path> ensureKeyFile(Account account, Path file) {
    return Mono.fromCallable(() -> Files.exists(file))
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(exists -> exists ? Mono.just(file) : createKey(account, file));
  }

  private Mono<Path> createKey(Account account, Path file) {
    String secret = Secrets.token(Credentials.API_KEY_PREFIX);
    UUID keyId = UUID.randomUUID();
    Instant now = Rows.now();
    return users
        .findByUsername(account.username())
        .map(UserRow::id)
        .switchIfEmpty(Mono.defer(() -> createUser(account)))
        .flatMap(
            userId ->
                tx.transactional(
                    db.sql(
                            "INSERT INTO api_keys (id, owner_id, name, prefix, secret_hash,"
                                + " created_at, expires_at) VALUES (:id, :owner, :name, :prefix,"
                                + " :hash, :now, :expires)")
                        .bind("id", keyId.toString())
                        .bind("owner", userId.toString())
                        .bind("name", account.keyName())
                        .bind("prefix", secret.substring(0, 12))
                        .bind("hash", Secrets.sha256(secret))
                        .bind("now", Rows.column(now))
                        .bind("expires", Rows.column(now.plus(Duration.ofDays(3650))))
                        .then()
                        .then(
                            db.sql(
                                    "INSERT INTO api_key_roles (key_id, role_name) VALUES (:id,"
                                        + " :role)")
                                .bind("id", keyId.toString())
                                .bind("role", account.role())
                                .then())
                        .then(
                            audit.append(
                                new AuditRecord(
                                    "system",
                                    null,
                                    "api_key.create",
                                    "api_key",
                                    keyId + " (" + account.keyName() + ", written to " + file + ")",
                                    AuditOutcome.SUCCESS,
                                    null,
                                    null)))))
        .then(
            Mono.fromCallable(() -> Secrets.writePrivateFile(file, secret))
                .subscribeOn(Schedulers.boundedElastic()));
  }

  private Mono<UUID> createUser(Account account) {
    UUID id = UUID.randomUUID();
    return hasher
        .hash(Secrets.password(32))
        .flatMap(
            hash -> {
              UserRow user =
                  UserRow.newLocal(
                      id,
                      account.username(),
                      account.fullName(),
                      null,
                      hash,
                      Map.of(),
                      false,
                      List.of(account.role()),
                      Rows.now());
              return tx.transactional(
                  users
                      .insert(user)
                      .then(
                          audit.append(
                              new AuditRecord(
                                  "system",
                                  null,
                                  "user.create",
                                  "user",
                                  id + " (" + account.username() + ", built-in)",
                                  AuditOutcome.SUCCESS,
                                  null,
                                  null))));
            })
        .thenReturn(id);
  }
}
