package dev.airlock.platform.auth;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.airlock.platform.api.model.Rule;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.rbac.Grants;
import dev.airlock.platform.rbac.RuleCodec;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Turns a bearer credential (an access token or an API key) into a {@link Caller}, or refuses it
 * with an {@link InvalidCredentialsException}. Account state, sessions and keys are cached for at
 * most {@value #CACHE_SECONDS} seconds; this replica drops its cache at once on any change it
 * makes, so a revocation takes effect here immediately and on other replicas within that time.
 */
@Component
public class Credentials {

  /** API keys start with this. */
  public static final String API_KEY_PREFIX = "alk_";

  static final int CACHE_SECONDS = 2;
  private static final Duration LOAD_TIMEOUT = Duration.ofSeconds(5);
  private static final Logger log = LoggerFactory.getLogger(Credentials.class);

  private final DatabaseClient db;
  private final AccessTokens tokens;
  private final RuleCodec codec;
  private final AsyncLoadingCache<UUID, Optional<Account>> accounts;
  private final AsyncLoadingCache<UUID, Boolean> sessions;
  private final AsyncLoadingCache<String, Optional<KeyRow>> keys;
  private final Map<UUID, Instant> keyUseRecorded = new ConcurrentHashMap<>();

  public Credentials(DatabaseClient db, AccessTokens tokens, RuleCodec codec) {
    this.db = db;
    this.tokens = tokens;
    this.codec = codec;
    this.accounts = cache((id, executor) -> bounded(loadAccount(id)));
    this.sessions = cache((id, executor) -> bounded(loadSessionActive(id)));
    this.keys = cache((hash, executor) -> bounded(loadKey(hash)));
  }

  private static <K, V> AsyncLoadingCache<K, V> cache(
      com.github.benmanes.caffeine.cache.AsyncCacheLoader<K, V> loader) {
    return Caffeine.newBuilder()
        .expireAfterWrite(Duration.ofSeconds(CACHE_SECONDS))
        .maximumSize(100_000)
        .buildAsync(loader);
  }

  // A load that never answers must not park every later request for the same key behind it.
  private static <T> java.util.concurrent.CompletableFuture<T> bounded(Mono<T> load) {
    return load.timeout(LOAD_TIMEOUT).toFuture();
  }

  // Many requests share one cached load: one caller going away must not cancel it for the others.
  private static <T> Mono<T> shared(java.util.concurrent.CompletableFuture<T> future) {
    return Mono.fromFuture(future, true);
  }

  /** Forgets every cached account, session and key; call after changing any of them. */
  public void invalidate() {
    accounts.synchronous().invalidateAll();
    sessions.synchronous().invalidateAll();
    keys.synchronous().invalidateAll();
  }

  /** Authenticates {@code credential}, the value after {@code Bearer }. */
  public Mono<Caller> authenticate(String credential) {
    if (credential.startsWith(API_KEY_PREFIX)) {
      return authenticateKey(credential);
    }
    return tokens
        .verify(credential)
        .flatMap(
            claims ->
                shared(sessions.get(claims.sessionId()))
                    .flatMap(
                        active ->
                            active
                                ? shared(accounts.get(claims.userId()))
                                : Mono.error(new InvalidCredentialsException("session revoked")))
                    .map(account -> toCaller(account, claims)));
  }

  private Caller toCaller(Optional<Account> found, AccessTokens.Claims claims) {
    Account account = usable(found);
    return new Caller(
        claims.userId(),
        account.username(),
        Caller.AuthMethod.PASSWORD,
        claims.sessionId(),
        null,
        new Grants(account.allRules()),
        List.copyOf(account.rulesByRole().keySet()),
        account.passwordChangeRequired());
  }

  private Mono<Caller> authenticateKey(String secret) {
    return shared(keys.get(Secrets.sha256(secret)))
        .flatMap(
            found -> {
              if (found.isEmpty()) {
                return Mono.error(new InvalidCredentialsException("unknown API key"));
              }
              KeyRow key = found.get();
              if (key.revoked()) {
                return Mono.error(new InvalidCredentialsException("API key revoked"));
              }
              if (key.expiresAt().isBefore(Instant.now())) {
                return Mono.error(new InvalidCredentialsException("API key expired"));
              }
              return shared(accounts.get(key.ownerId()))
                  .map(
                      owner -> {
                        Account account = usable(owner);
                        // A key never exceeds its owner's current roles.
                        List<Rule> rules = new ArrayList<>();
                        account.rulesByRole().entrySet().stream()
                            .filter(e -> key.roles().contains(e.getKey()))
                            .forEach(e -> rules.addAll(e.getValue()));
                        recordUse(key.id());
                        return new Caller(
                            key.ownerId(),
                            account.username(),
                            Caller.AuthMethod.API_KEY,
                            null,
                            key.id(),
                            new Grants(rules),
                            account.rulesByRole().keySet().stream()
                                .filter(key.roles()::contains)
                                .toList(),
                            false);
                      });
            });
  }

  private static Account usable(Optional<Account> found) {
    Account account =
        found.orElseThrow(() -> new InvalidCredentialsException("user no longer exists"));
    if (account.disabled()) {
      throw new InvalidCredentialsException("account disabled");
    }
    return account;
  }

  // last_used_at is informative: written at most once a minute per key, off the request's path.
  private void recordUse(UUID keyId) {
    Instant now = Instant.now();
    Instant last = keyUseRecorded.get(keyId);
    if (last != null && last.isAfter(now.minusSeconds(60))) {
      return;
    }
    keyUseRecorded.put(keyId, now);
    db.sql("UPDATE api_keys SET last_used_at = :now WHERE id = :id")
        .bind("now", Rows.column(Rows.now()))
        .bind("id", keyId.toString())
        .then()
        .subscribe(
            null, e -> log.warn("Cannot record the use of API key {}: {}", keyId, e.toString()));
  }

  private Mono<Optional<Account>> loadAccount(UUID userId) {
    return db.sql(
            "SELECT u.username, u.disabled, u.password_change_required, r.name, r.rules"
                + " FROM users u LEFT JOIN user_roles ur ON ur.user_id = u.id"
                + " LEFT JOIN roles r ON r.name = ur.role_name WHERE u.id = :id")
        .bind("id", userId.toString())
        .map(
            row ->
                new AccountRow(
                    row.get("username", String.class),
                    Boolean.TRUE.equals(row.get("disabled", Boolean.class)),
                    Boolean.TRUE.equals(row.get("password_change_required", Boolean.class)),
                    row.get("name", String.class),
                    row.get("rules", String.class)))
        .all()
        .collectList()
        .map(
            rows -> {
              if (rows.isEmpty()) {
                return Optional.<Account>empty();
              }
              Map<String, List<Rule>> byRole = new LinkedHashMap<>();
              for (AccountRow r : rows) {
                if (r.role() != null) {
                  byRole.put(r.role(), codec.rules(r.rules()));
                }
              }
              AccountRow first = rows.get(0);
              return Optional.of(
                  new Account(
                      first.username(), first.disabled(), first.passwordChangeRequired(), byRole));
            });
  }

  private Mono<Boolean> loadSessionActive(UUID sessionId) {
    return db.sql(
            "SELECT COUNT(*) FROM auth_sessions WHERE id = :id AND revoked_at IS NULL"
                + " AND expires_at > :now")
        .bind("id", sessionId.toString())
        .bind("now", Rows.column(Rows.now()))
        .map(row -> row.get(0, Long.class))
        .one()
        .map(count -> count > 0);
  }

  private Mono<Optional<KeyRow>> loadKey(String hash) {
    return db.sql(
            "SELECT k.id, k.owner_id, k.expires_at, k.revoked_at, kr.role_name FROM api_keys k"
                + " LEFT JOIN api_key_roles kr ON kr.key_id = k.id WHERE k.secret_hash = :hash")
        .bind("hash", hash)
        .map(
            row ->
                new Object[] {
                  row.get("id", String.class),
                  row.get("owner_id", String.class),
                  row.get("expires_at", LocalDateTime.class),
                  row.get("revoked_at", LocalDateTime.class),
                  row.get("role_name", String.class)
                })
        .all()
        .collectList()
        .map(
            rows -> {
              if (rows.isEmpty()) {
                return Optional.<KeyRow>empty();
              }
              Object[] first = rows.get(0);
              Set<String> roles =
                  Set.copyOf(rows.stream().map(r -> (String) r[4]).filter(r -> r != null).toList());
              return Optional.of(
                  new KeyRow(
                      UUID.fromString((String) first[0]),
                      UUID.fromString((String) first[1]),
                      Rows.instant((LocalDateTime) first[2]),
                      first[3] != null,
                      roles));
            });
  }

  private record AccountRow(
      String username,
      boolean disabled,
      boolean passwordChangeRequired,
      String role,
      String rules) {}

  private record Account(
      String username,
      boolean disabled,
      boolean passwordChangeRequired,
      Map<String, List<Rule>> rulesByRole) {
    List<Rule> allRules() {
      List<Rule> all = new ArrayList<>();
      rulesByRole.values().forEach(all::addAll);
      return all;
    }
  }

  private record KeyRow(
      UUID id, UUID ownerId, Instant expiresAt, boolean revoked, Set<String> roles) {}
}
