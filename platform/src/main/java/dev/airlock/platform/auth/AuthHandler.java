package dev.airlock.platform.auth;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.AuthApi;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.Jwk;
import dev.airlock.platform.api.model.JwkSet;
import dev.airlock.platform.api.model.LoginRequest;
import dev.airlock.platform.api.model.Me;
import dev.airlock.platform.api.model.PasswordChange;
import dev.airlock.platform.api.model.RefreshRequest;
import dev.airlock.platform.api.model.TokenPair;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.directory.DirectoryLogin;
import dev.airlock.platform.mail.LoginDevices;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.user.InitialAdmin;
import dev.airlock.platform.user.SessionRevoker;
import dev.airlock.platform.user.UserRepository;
import dev.airlock.platform.user.UserRow;
import dev.airlock.platform.web.SourceAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Serves login, refresh, logout, the caller's identity, password changes and the JWKS. Every
 * attempt is audited; failed logins lock the account for a doubling time after {@code
 * airlock.login.max-failures} in a row. A directory user's password is checked by their directory
 * (with the same counting and locking), and is changed there, not here.
 */
@RestController
public class AuthHandler implements AuthApi {

  private static final String REFRESH_PREFIX = "alr_";

  private final UserRepository users;
  private final PasswordHasher hasher;
  private final AccessTokens tokens;
  private final SigningKeys keys;
  private final Credentials credentials;
  private final SessionRevoker sessions;
  private final AuditLog audit;
  private final TransactionalOperator tx;
  private final DatabaseClient db;
  private final AirlockProperties properties;
  private final InitialAdmin initialAdmin;
  private final Access access;
  private final LoginDevices devices;
  private final DirectoryLogin directoryLogin;

  public AuthHandler(
      UserRepository users,
      PasswordHasher hasher,
      AccessTokens tokens,
      SigningKeys keys,
      Credentials credentials,
      SessionRevoker sessions,
      AuditLog audit,
      TransactionalOperator tx,
      DatabaseClient db,
      AirlockProperties properties,
      InitialAdmin initialAdmin,
      Access access,
      LoginDevices devices,
      DirectoryLogin directoryLogin) {
    this.users = users;
    this.hasher = hasher;
    this.tokens = tokens;
    this.keys = keys;
    this.credentials = credentials;
    this.sessions = sessions;
    this.audit = audit;
    this.tx = tx;
    this.db = db;
    this.properties = properties;
    this.initialAdmin = initialAdmin;
    this.access = access;
    this.devices = devices;
    this.directoryLogin = directoryLogin;
  }

  @Override
  public Mono<ResponseEntity<TokenPair>> login(
      Mono<LoginRequest> body, ServerWebExchange exchange) {
    String source = SourceAddress.of(exchange);
    return body.flatMap(
        request -> {
          String username = request.getUsername().trim().toLowerCase(Locale.ROOT);
          return users
              .findByUsername(username)
              .singleOptional()
              .flatMap(
                  found -> {
                    if (found.isPresent() && found.get().fromDirectory()) {
                      return directoryPassword(found.get(), request.getPassword(), source)
                          .flatMap(matches -> attempt(found.get(), matches, source))
                          .flatMap(ok -> devices.loggedIn(found.get(), exchange).thenReturn(ok));
                    }
                    return hasher
                        .matches(
                            request.getPassword(), found.map(UserRow::passwordHash).orElse(null))
                        .flatMap(
                            matches ->
                                found.isEmpty()
                                    ? failure(username, "unknown user", source)
                                    : attempt(found.get(), matches, source)
                                        .flatMap(
                                            ok ->
                                                devices
                                                    .loggedIn(found.get(), exchange)
                                                    .thenReturn(ok)));
                  });
        });
  }

  /**
   * Checks a directory user's password by binding to their directory (never the local hash). A
   * locked account does not reach the directory: {@link #attempt} reports the lock. A directory
   * that cannot answer is audited and reported as {@code unavailable}.
   */
  private Mono<Boolean> directoryPassword(UserRow user, String password, String source) {
    if (user.lockedUntil() != null && user.lockedUntil().isAfter(Rows.now())) {
      return Mono.just(false);
    }
    return directoryLogin
        .matches(user, password)
        .onErrorResume(
            ApiProblem.class,
            problem ->
                record(
                        user,
                        "auth.login",
                        AuditOutcome.FAILURE,
                        "directory unavailable: " + problem.getMessage(),
                        source)
                    .then(Mono.error(problem)));
  }

  private Mono<ResponseEntity<TokenPair>> attempt(UserRow user, boolean matches, String source) {
    Instant now = Rows.now();
    AirlockProperties.Login settings = properties.login();
    return tx.transactional(
            users
                .lock(user.id())
                .flatMap(
                    locked -> {
                      if (locked.lockedUntil() != null && locked.lockedUntil().isAfter(now)) {
                        long seconds =
                            Math.max(1, Duration.between(now, locked.lockedUntil()).toSeconds());
                        return record(
                                user, "auth.login", AuditOutcome.DENIED, "account locked", source)
                            .thenReturn(
                                Outcome.problem(
                                    new ApiProblem(
                                        ProblemType.ACCOUNT_LOCKED,
                                        "Too many failed logins; try again in "
                                            + seconds
                                            + " seconds",
                                        List.of(),
                                        Map.of(HttpHeaders.RETRY_AFTER, Long.toString(seconds)))));
                      }
                      if (!matches) {
                        int failures = locked.failedLogins() + 1;
                        Instant until = null;
                        if (failures >= settings.maxFailures()) {
                          int doublings = Math.min(20, failures - settings.maxFailures());
                          Duration lock = settings.firstLock().multipliedBy(1L << doublings);
                          until =
                              now.plus(
                                  lock.compareTo(settings.maxLock()) > 0
                                      ? settings.maxLock()
                                      : lock);
                        }
                        Mono<Void> lockEvent =
                            until == null
                                ? Mono.empty()
                                : record(
                                    user,
                                    "user.locked",
                                    AuditOutcome.SUCCESS,
                                    failures + " failed logins in a row; locked until " + until,
                                    source);
                        return users
                            .recordLoginFailure(user.id(), failures, until)
                            .then(
                                record(
                                    user,
                                    "auth.login",
                                    AuditOutcome.FAILURE,
                                    "wrong password",
                                    source))
                            .then(lockEvent)
                            .thenReturn(Outcome.problem(invalidCredentials()));
                      }
                      if (locked.disabled()) {
                        return record(
                                user, "auth.login", AuditOutcome.DENIED, "account disabled", source)
                            .thenReturn(
                                Outcome.problem(
                                    new ApiProblem(
                                        ProblemType.ACCOUNT_DISABLED,
                                        "This account is disabled; ask an administrator")));
                      }
                      UUID session = UUID.randomUUID();
                      String refresh = Secrets.token(REFRESH_PREFIX);
                      Instant sessionEnd = now.plus(properties.tokens().sessionMaxAge());
                      return users
                          .recordLoginSuccess(user.id(), now)
                          .then(
                              db.sql(
                                      "INSERT INTO auth_sessions (id, user_id, created_at,"
                                          + " expires_at) VALUES (:id, :user, :now, :end)")
                                  .bind("id", session.toString())
                                  .bind("user", user.id().toString())
                                  .bind("now", Rows.column(now))
                                  .bind("end", Rows.column(sessionEnd))
                                  .then())
                          .then(insertRefresh(refresh, session, now, sessionEnd))
                          .then(record(user, "auth.login", AuditOutcome.SUCCESS, null, source))
                          .thenReturn(
                              Outcome.ok(
                                  new Issued(
                                      user.id(),
                                      user.username(),
                                      session,
                                      refresh,
                                      refreshEnd(now, sessionEnd),
                                      locked.passwordChangeRequired())));
                    }))
        .flatMap(this::respond);
  }

  @Override
  public Mono<ResponseEntity<TokenPair>> refresh(
      Mono<RefreshRequest> body, ServerWebExchange exchange) {
    String source = SourceAddress.of(exchange);
    return body.flatMap(
        request -> {
          String hash = Secrets.sha256(request.getRefreshToken());
          Instant now = Rows.now();
          return tx.transactional(
                  db.sql(
                          "SELECT rt.session_id, rt.expires_at, rt.used_at, s.user_id,"
                              + " s.revoked_at, s.expires_at AS session_end, u.username,"
                              + " u.disabled, u.password_change_required FROM refresh_tokens rt"
                              + " JOIN auth_sessions s ON s.id = rt.session_id"
                              + " JOIN users u ON u.id = s.user_id"
                              + " WHERE rt.token_hash = :hash FOR UPDATE")
                      .bind("hash", hash)
                      .map(
                          row ->
                              new RefreshRow(
                                  UUID.fromString(row.get("session_id", String.class)),
                                  Rows.instant(row.get("expires_at", LocalDateTime.class)),
                                  row.get("used_at", LocalDateTime.class) != null,
                                  UUID.fromString(row.get("user_id", String.class)),
                                  row.get("revoked_at", LocalDateTime.class) != null,
                                  Rows.instant(row.get("session_end", LocalDateTime.class)),
                                  row.get("username", String.class),
                                  Boolean.TRUE.equals(row.get("disabled", Boolean.class)),
                                  Boolean.TRUE.equals(
                                      row.get("password_change_required", Boolean.class))))
                      .one()
                      .flatMap(found -> rotate(found, hash, now, source))
                      .switchIfEmpty(
                          Mono.defer(
                              () ->
                                  audit
                                      .append(
                                          new AuditRecord(
                                              "anonymous",
                                              null,
                                              "auth.refresh",
                                              null,
                                              null,
                                              AuditOutcome.DENIED,
                                              "unknown refresh token",
                                              source))
                                      .thenReturn(
                                          Outcome.problem(refused("unknown refresh token"))))))
              .flatMap(this::respond);
        });
  }

  private Mono<Outcome> rotate(RefreshRow row, String hash, Instant now, String source) {
    String reason = null;
    Mono<Void> revoke = Mono.empty();
    if (row.used()) {
      reason = "refresh token reused: session revoked";
      revoke =
          sessions
              .revoke(row.sessionId(), "refresh token reuse")
              .then(Mono.fromRunnable(credentials::invalidate));
    } else if (row.revoked()) {
      reason = "session revoked";
    } else if (row.expiresAt().isBefore(now) || row.sessionEnd().isBefore(now)) {
      reason = "refresh token expired";
    } else if (row.disabled()) {
      reason = "account disabled";
    }
    if (reason != null) {
      String why = reason;
      return revoke
          .then(recordRefresh(row, AuditOutcome.DENIED, why, source))
          .thenReturn(Outcome.problem(refused(why)));
    }
    String next = Secrets.token(REFRESH_PREFIX);
    return db.sql("UPDATE refresh_tokens SET used_at = :now WHERE token_hash = :hash")
        .bind("now", Rows.column(now))
        .bind("hash", hash)
        .then()
        .then(insertRefresh(next, row.sessionId(), now, row.sessionEnd()))
        .then(recordRefresh(row, AuditOutcome.SUCCESS, null, source))
        .thenReturn(
            Outcome.ok(
                new Issued(
                    row.userId(),
                    row.username(),
                    row.sessionId(),
                    next,
                    refreshEnd(now, row.sessionEnd()),
                    row.passwordChangeRequired())));
  }

  private Mono<Void> recordRefresh(
      RefreshRow row, AuditOutcome outcome, String reason, String source) {
    return audit.append(
        new AuditRecord(
            row.username(),
            row.userId().toString(),
            "auth.refresh",
            "session",
            row.sessionId().toString(),
            outcome,
            reason,
            source));
  }

  @Override
  public Mono<ResponseEntity<Void>> logout(ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    if (caller.sessionId() == null) {
      return Mono.error(
          ApiProblem.conflict("An API key has no session to end; revoke the key instead"));
    }
    return tx.transactional(
            sessions
                .revoke(caller.sessionId(), "logout")
                .then(
                    access.success(
                        exchange, "auth.logout", "session", caller.sessionId().toString())))
        .then(Mono.fromRunnable(credentials::invalidate))
        .thenReturn(ResponseEntity.noContent().build());
  }

  @Override
  public Mono<ResponseEntity<Me>> getMe(ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return users
        .findById(caller.userId())
        .switchIfEmpty(Mono.error(() -> refused("user no longer exists")))
        .map(
            user -> {
              Me me =
                  new Me(
                      user.toApi(),
                      caller.method() == Caller.AuthMethod.API_KEY
                          ? Me.AuthMethodEnum.API_KEY
                          : Me.AuthMethodEnum.PASSWORD,
                      caller.grants().rules(),
                      caller.passwordChangeRequired());
              me.setApiKeyId(caller.apiKeyId());
              return ResponseEntity.ok(me);
            });
  }

  @Override
  public Mono<ResponseEntity<Void>> changePassword(
      Mono<PasswordChange> body, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return body.flatMap(
        change ->
            users
                .findById(caller.userId())
                .switchIfEmpty(Mono.error(() -> refused("user no longer exists")))
                .flatMap(
                    user ->
                        user.fromDirectory()
                            ? Mono.error(
                                new ApiProblem(
                                    ProblemType.DIRECTORY_USER,
                                    "Your account comes from "
                                        + user.source()
                                        + ": change your password in the directory"))
                            : Mono.just(user))
                .flatMap(
                    user ->
                        hasher
                            .matches(change.getCurrentPassword(), user.passwordHash())
                            .flatMap(
                                matches -> {
                                  if (!matches) {
                                    return audit
                                        .append(
                                            new AuditRecord(
                                                user.username(),
                                                user.id().toString(),
                                                "auth.password",
                                                "user",
                                                user.id().toString(),
                                                AuditOutcome.FAILURE,
                                                "wrong current password",
                                                SourceAddress.of(exchange)))
                                        .then(
                                            Mono.error(
                                                ApiProblem.validation(
                                                    "currentPassword",
                                                    "does not match your current password")));
                                  }
                                  if (change.getNewPassword().equals(change.getCurrentPassword())) {
                                    return Mono.error(
                                        ApiProblem.validation(
                                            "newPassword",
                                            "must differ from the current password"));
                                  }
                                  return hasher
                                      .hash(change.getNewPassword())
                                      .flatMap(
                                          hash ->
                                              tx.transactional(
                                                  users
                                                      .setPassword(user.id(), hash, false)
                                                      .then(
                                                          sessions.revokeAllBut(
                                                              user.id(),
                                                              caller.sessionId(),
                                                              "password changed"))
                                                      .then(
                                                          access.success(
                                                              exchange,
                                                              "auth.password",
                                                              "session",
                                                              user.id().toString()))))
                                      .then(
                                          Mono.fromRunnable(
                                              () -> {
                                                credentials.invalidate();
                                                initialAdmin.passwordChanged(
                                                    user.id(), user.username());
                                              }));
                                }))
                .thenReturn(ResponseEntity.noContent().<Void>build()));
  }

  @Override
  public Mono<ResponseEntity<JwkSet>> getJwks(ServerWebExchange exchange) {
    return keys.publicKeys()
        .map(
            set ->
                new JwkSet(
                    set.getKeys().stream()
                        .map(
                            key -> {
                              Map<String, Object> json = key.toJSONObject();
                              return new Jwk((String) json.get("kty"), key.getKeyID())
                                  .use((String) json.get("use"))
                                  .alg((String) json.get("alg"))
                                  .crv((String) json.get("crv"))
                                  .x((String) json.get("x"))
                                  .y((String) json.get("y"));
                            })
                        .toList()))
        .map(
            jwks ->
                ResponseEntity.ok()
                    .header(HttpHeaders.CACHE_CONTROL, "public, max-age=60")
                    .body(jwks));
  }

  private Mono<ResponseEntity<TokenPair>> respond(Outcome outcome) {
    if (outcome.problem() != null) {
      return Mono.error(outcome.problem());
    }
    Issued issued = outcome.issued();
    return tokens
        .issue(
            issued.userId(), issued.username(), issued.sessionId(), issued.passwordChangeRequired())
        .map(
            access ->
                ResponseEntity.ok()
                    .header(HttpHeaders.CACHE_CONTROL, "no-store")
                    .body(
                        new TokenPair(
                            access,
                            issued.refreshToken(),
                            TokenPair.TokenTypeEnum.BEARER,
                            (int) tokens.ttl().toSeconds(),
                            (int) issued.refreshTtl().toSeconds(),
                            issued.passwordChangeRequired())));
  }

  private Mono<Void> insertRefresh(String token, UUID session, Instant now, Instant sessionEnd) {
    return db.sql(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at)"
                + " VALUES (:hash, :session, :now, :end)")
        .bind("hash", Secrets.sha256(token))
        .bind("session", session.toString())
        .bind("now", Rows.column(now))
        .bind("end", Rows.column(now.plus(refreshEnd(now, sessionEnd))))
        .then();
  }

  private Duration refreshEnd(Instant now, Instant sessionEnd) {
    Duration ttl = properties.tokens().refreshTtl();
    Duration left = Duration.between(now, sessionEnd);
    return left.compareTo(ttl) < 0 ? left : ttl;
  }

  private Mono<ResponseEntity<TokenPair>> failure(String username, String reason, String source) {
    return audit
        .append(
            new AuditRecord(
                "anonymous",
                null,
                "auth.login",
                "user",
                username,
                AuditOutcome.FAILURE,
                reason,
                source))
        .then(Mono.error(invalidCredentials()));
  }

  private Mono<Void> record(
      UserRow user, String action, AuditOutcome outcome, String reason, String source) {
    return audit.append(
        new AuditRecord(
            user.username(),
            user.id().toString(),
            action,
            "user",
            user.id().toString(),
            outcome,
            reason,
            source));
  }

  private static ApiProblem invalidCredentials() {
    return new ApiProblem(ProblemType.INVALID_CREDENTIALS, "Wrong username or password");
  }

  private static ApiProblem refused(String reason) {
    return new ApiProblem(
        ProblemType.UNAUTHENTICATED,
        "The refresh token was refused: " + reason + "; log in again",
        List.of(),
        Map.of(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
  }

  private record RefreshRow(
      UUID sessionId,
      Instant expiresAt,
      boolean used,
      UUID userId,
      boolean revoked,
      Instant sessionEnd,
      String username,
      boolean disabled,
      boolean passwordChangeRequired) {}

  private record Issued(
      UUID userId,
      String username,
      UUID sessionId,
      String refreshToken,
      Duration refreshTtl,
      boolean passwordChangeRequired) {}

  /** What a transaction decided: tokens to issue, or a problem to report after it commits. */
  private record Outcome(Issued issued, ApiProblem problem) {
    static Outcome ok(Issued issued) {
      return new Outcome(issued, null);
    }

    static Outcome problem(ApiProblem problem) {
      return new Outcome(null, problem);
    }
  }
}
