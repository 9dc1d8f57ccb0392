package dev.airlock.platform.signalnode;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.PasswordHasher;
import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.user.UserRepository;
import dev.airlock.platform.user.UserRow;
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
 * For a signal node on the same host (the all-in-one mode): at start, when {@code
 * <data-dir>/signal-node-key} does not exist, makes sure the built-in account {@code signal-node}
 * (role {@code signal-node}, a random password nobody is told) exists, gives it a new API key and
 * writes that key to the file (mode 0600). Nodes elsewhere get a key an administrator creates for a
 * user holding the {@code signal-node} role.
 */
@Component
public class SignalNodeAccount {

  /** The built-in account's username. */
  public static final String USERNAME = "signal-node";

  private final UserRepository users;
  private final PasswordHasher hasher;
  private final DatabaseClient db;
  private final AuditLog audit;
  private final TransactionalOperator tx;
  private final AirlockProperties properties;

  public SignalNodeAccount(
      UserRepository users,
      PasswordHasher hasher,
      DatabaseClient db,
      AuditLog audit,
      TransactionalOperator tx,
      AirlockProperties properties) {
    this.users = users;
    this.hasher = hasher;
    this.db = db;
    this.audit = audit;
    this.tx = tx;
    this.properties = properties;
  }

  /** The key file, or null when none is wanted. */
  public Path keyFile() {
    String name = properties.signal().keyFile();
    return name.isBlank() ? null : properties.dataDir().toAbsolutePath().normalize().resolve(name);
  }

  /** Writes the key file unless it exists; emits the file (empty when none is wanted). */
  public Mono<Path> ensureKeyFile() {
    Path file = keyFile();
    if (file == null) {
      return Mono.empty();
    }
    return Mono.fromCallable(() -> Files.exists(file))
        .subscribeOn(Schedulers.boundedElastic())
        .flatMap(exists -> exists ? Mono.just(file) : createKey(file));
  }

  private Mono<Path> createKey(Path file) {
    String secret = Secrets.token(Credentials.API_KEY_PREFIX);
    UUID keyId = UUID.randomUUID();
    Instant now = Rows.now();
    return users
        .findByUsername(USERNAME)
        .map(UserRow::id)
        .switchIfEmpty(Mono.defer(this::createUser))
        .flatMap(
            userId ->
                tx.transactional(
                    db.sql(
                            "INSERT INTO api_keys (id, owner_id, name, prefix, secret_hash,"
                                + " created_at, expires_at) VALUES (:id, :owner, :name, :prefix,"
                                + " :hash, :now, :expires)")
                        .bind("id", keyId.toString())
                        .bind("owner", userId.toString())
                        .bind("name", "local signal node")
                        .bind("prefix", secret.substring(0, 12))
                        .bind("hash", Secrets.sha256(secret))
                        .bind("now", Rows.column(now))
                        .bind("expires", Rows.column(now.plus(Duration.ofDays(3650))))
                        .then()
                        .then(
                            db.sql(
                                    "INSERT INTO api_key_roles (key_id, role_name) VALUES (:id,"
                                        + " 'signal-node')")
                                .bind("id", keyId.toString())
                                .then())
                        .then(
                            audit.append(
                                new AuditRecord(
                                    "system",
                                    null,
                                    "api_key.create",
                                    "api_key",
                                    keyId + " (local signal node, written to " + file + ")",
                                    AuditOutcome.SUCCESS,
                                    null,
                                    null)))))
        .then(
            Mono.fromCallable(() -> Secrets.writePrivateFile(file, secret))
                .subscribeOn(Schedulers.boundedElastic()));
  }

  private Mono<UUID> createUser() {
    UUID id = UUID.randomUUID();
    return hasher
        .hash(Secrets.password(32))
        .flatMap(
            hash -> {
              Instant now = Rows.now();
              UserRow user =
                  new UserRow(
                      id,
                      0,
                      USERNAME,
                      "Signal nodes on this host",
                      null,
                      hash,
                      Map.of(),
                      false,
                      false,
                      0,
                      null,
                      now,
                      now,
                      null,
                      List.of(USERNAME));
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
                                  id + " (" + USERNAME + ", built-in)",
                                  AuditOutcome.SUCCESS,
                                  null,
                                  null))));
            })
        .thenReturn(id);
  }
}
