package dev.airlock.platform.apikey;

import dev.airlock.platform.api.ApiKeysApi;
import dev.airlock.platform.api.model.ApiKey;
import dev.airlock.platform.api.model.ApiKeyCreate;
import dev.airlock.platform.api.model.ApiKeyCreated;
import dev.airlock.platform.api.model.ApiKeyPage;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.user.UserRepository;
import dev.airlock.platform.web.Cursors;
import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Serves the API-key operations. A key belongs to the user who created it and carries a subset of
 * that user's roles; its secret is returned once and only its SHA-256 is stored. Owners may list,
 * read and revoke their own keys; other users' keys need a rule.
 */
@RestController
public class ApiKeyHandler implements ApiKeysApi {

  private static final String SELECT =
      "SELECT k.*, GROUP_CONCAT(kr.role_name ORDER BY kr.role_name SEPARATOR ',') AS role_names"
          + " FROM api_keys k LEFT JOIN api_key_roles kr ON kr.key_id = k.id ";

  private final DatabaseClient db;
  private final UserRepository users;
  private final Access access;
  private final TransactionalOperator tx;
  private final Credentials credentials;

  public ApiKeyHandler(
      DatabaseClient db,
      UserRepository users,
      Access access,
      TransactionalOperator tx,
      Credentials credentials) {
    this.db = db;
    this.users = users;
    this.access = access;
    this.tx = tx;
    this.credentials = credentials;
  }

  @Override
  public Mono<ResponseEntity<ApiKeyPage>> listApiKeys(
      UUID owner, Integer limit, String cursor, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    UUID whose = owner == null ? caller.userId() : owner;
    long after = Cursors.decode(cursor, 0);
    Mono<Void> allowed =
        Access.allows(exchange, Map.of(), whose)
            ? Mono.empty()
            : access.forbid(
                exchange,
                whose.toString(),
                "listing another user's keys needs api_key:list",
                "Listing another user's API keys needs the api_key:list permission");
    return allowed
        .thenMany(
            db.sql(
                    SELECT
                        + "WHERE k.owner_id = :owner AND k.row_no > :after GROUP BY k.id"
                        + " ORDER BY k.row_no LIMIT :limit")
                .bind("owner", whose.toString())
                .bind("after", after)
                .bind("limit", limit + 1)
                .map(ApiKeyHandler::row)
                .all())
        .collectList()
        .map(
            rows -> {
              Cursors.Page<KeyRow> page = Cursors.page(rows, limit, KeyRow::rowNo);
              ApiKeyPage result = new ApiKeyPage(page.rows().stream().map(KeyRow::key).toList());
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<ApiKey>> getApiKey(UUID keyId, ServerWebExchange exchange) {
    return find(keyId)
        .flatMap(
            row ->
                access
                    .require(exchange, Map.of(), row.key().getOwnerId(), keyId.toString())
                    .thenReturn(ResponseEntity.ok(row.key())));
  }

  @Override
  public Mono<ResponseEntity<ApiKeyCreated>> createApiKey(
      Mono<ApiKeyCreate> body, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return body.flatMap(
        create -> {
          if (caller.method() == Caller.AuthMethod.API_KEY) {
            return Mono.error(
                new ApiProblem(
                    ProblemType.FORBIDDEN,
                    "An API key cannot create API keys; log in with a password"));
          }
          return access
              .require(exchange, Map.of(), null, create.getName())
              .then(users.findById(caller.userId()))
              .flatMap(
                  owner -> {
                    var notHeld = new TreeSet<>(create.getRoles());
                    notHeld.removeAll(owner.roles());
                    if (!notHeld.isEmpty()) {
                      return Mono.error(
                          ApiProblem.validation(
                              "roles",
                              "a key can only carry roles you hold; you do not hold " + notHeld));
                    }
                    return insert(exchange, caller, create);
                  });
        });
  }

  private Mono<ResponseEntity<ApiKeyCreated>> insert(
      ServerWebExchange exchange, Caller caller, ApiKeyCreate create) {
    UUID id = UUID.randomUUID();
    String secret = Secrets.token(Credentials.API_KEY_PREFIX);
    String prefix = secret.substring(0, 12);
    Instant now = Rows.now();
    int days = create.getTtlDays() == null ? 90 : create.getTtlDays();
    Instant expires = now.plus(Duration.ofDays(days));
    Mono<Void> insert =
        db.sql(
                "INSERT INTO api_keys (id, owner_id, name, prefix, secret_hash, created_at,"
                    + " expires_at) VALUES (:id, :owner, :name, :prefix, :hash, :now, :expires)")
            .bind("id", id.toString())
            .bind("owner", caller.userId().toString())
            .bind("name", create.getName())
            .bind("prefix", prefix)
            .bind("hash", Secrets.sha256(secret))
            .bind("now", Rows.column(now))
            .bind("expires", Rows.column(expires))
            .then()
            .then(
                Flux.fromIterable(new TreeSet<>(create.getRoles()))
                    .concatMap(
                        role ->
                            db.sql(
                                    "INSERT INTO api_key_roles (key_id, role_name)"
                                        + " VALUES (:id, :role)")
                                .bind("id", id.toString())
                                .bind("role", role)
                                .then())
                    .then());
    return tx.transactional(
            insert.then(
                access.success(
                    exchange, "api_key.create", "api_key", id + " (" + create.getName() + ")")))
        .then(find(id))
        .map(
            row -> {
              ApiKey key = row.key();
              ApiKeyCreated created =
                  new ApiKeyCreated(
                      key.getId(),
                      key.getName(),
                      key.getOwnerId(),
                      key.getRoles(),
                      key.getPrefix(),
                      key.getCreatedAt(),
                      key.getExpiresAt(),
                      key.getRevoked(),
                      secret);
              return ResponseEntity.status(HttpStatus.CREATED)
                  .header(HttpHeaders.CACHE_CONTROL, "no-store")
                  .body(created);
            });
  }

  @Override
  public Mono<ResponseEntity<Void>> revokeApiKey(UUID keyId, ServerWebExchange exchange) {
    return find(keyId)
        .flatMap(
            row ->
                access
                    .require(exchange, Map.of(), row.key().getOwnerId(), keyId.toString())
                    .then(
                        tx.transactional(
                            db.sql(
                                    "UPDATE api_keys SET revoked_at = :now"
                                        + " WHERE id = :id AND revoked_at IS NULL")
                                .bind("now", Rows.column(Rows.now()))
                                .bind("id", keyId.toString())
                                .then()
                                .then(
                                    access.success(
                                        exchange, "api_key.revoke", "api_key", keyId.toString())))))
        .then(Mono.fromRunnable(credentials::invalidate))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<KeyRow> find(UUID keyId) {
    return db.sql(SELECT + "WHERE k.id = :id GROUP BY k.id")
        .bind("id", keyId.toString())
        .map(ApiKeyHandler::row)
        .one()
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("API key", keyId)));
  }

  private static KeyRow row(Readable row) {
    String roles = row.get("role_names", String.class);
    ApiKey key =
        new ApiKey(
            UUID.fromString(row.get("id", String.class)),
            row.get("name", String.class),
            UUID.fromString(row.get("owner_id", String.class)),
            roles == null ? new ArrayList<>() : new ArrayList<>(Arrays.asList(roles.split(","))),
            row.get("prefix", String.class),
            Rows.offset(row.get("created_at", LocalDateTime.class)),
            Rows.offset(row.get("expires_at", LocalDateTime.class)),
            row.get("revoked_at", LocalDateTime.class) != null);
    key.setLastUsedAt(Rows.offset(row.get("last_used_at", LocalDateTime.class)));
    return new KeyRow(row.get("row_no", Long.class), key);
  }

  private record KeyRow(long rowNo, ApiKey key) {}
}
