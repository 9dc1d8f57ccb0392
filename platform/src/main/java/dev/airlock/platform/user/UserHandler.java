package dev.airlock.platform.user;

import dev.airlock.platform.api.UsersApi;
import dev.airlock.platform.api.model.User;
import dev.airlock.platform.api.model.UserCreate;
import dev.airlock.platform.api.model.UserPage;
import dev.airlock.platform.api.model.UserUpdate;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.PasswordHasher;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.role.RoleRepository;
import dev.airlock.platform.web.Cursors;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Serves the users operations. Rules select users by their labels. Giving a user roles also needs
 * {@code role:update}, so that whoever may edit users cannot grant themselves more than they have.
 * A directory user's password, name and e-mail belong to the directory ({@code directory-user});
 * roles set here by hand last until the next directory sync replaces them.
 */
@RestController
public class UserHandler implements UsersApi {

  private final UserRepository users;
  private final RoleRepository roles;
  private final PasswordHasher hasher;
  private final Access access;
  private final TransactionalOperator tx;
  private final Credentials credentials;
  private final SessionRevoker sessions;

  public UserHandler(
      UserRepository users,
      RoleRepository roles,
      PasswordHasher hasher,
      Access access,
      TransactionalOperator tx,
      Credentials credentials,
      SessionRevoker sessions) {
    this.users = users;
    this.roles = roles;
    this.hasher = hasher;
    this.access = access;
    this.tx = tx;
    this.credentials = credentials;
    this.sessions = sessions;
  }

  @Override
  public Mono<ResponseEntity<UserPage>> listUsers(
      Integer limit, String cursor, ServerWebExchange exchange) {
    long after = Cursors.decode(cursor, 0);
    return users
        .page(after, limit + 1)
        .collectList()
        .map(
            rows -> {
              Cursors.Page<UserRow> page = Cursors.page(rows, limit, UserRow::rowNo);
              List<User> visible = new ArrayList<>();
              for (UserRow row : page.rows()) {
                if (Access.allows(exchange, row.labels(), row.id())) {
                  visible.add(row.toApi());
                }
              }
              UserPage result = new UserPage(visible);
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<User>> getUser(UUID userId, ServerWebExchange exchange) {
    return existing(userId)
        .flatMap(
            row ->
                access
                    .require(exchange, row.labels(), row.id(), userId.toString())
                    .thenReturn(ResponseEntity.ok(row.toApi())));
  }

  @Override
  public Mono<ResponseEntity<User>> createUser(Mono<UserCreate> body, ServerWebExchange exchange) {
    return body.flatMap(
        create -> {
          Map<String, String> labels = create.getLabels() == null ? Map.of() : create.getLabels();
          List<String> roleNames =
              create.getRoles() == null ? List.of() : List.copyOf(new TreeSet<>(create.getRoles()));
          UUID id = UUID.randomUUID();
          return access
              .require(exchange, labels, null, create.getUsername())
              .then(mayAssignRoles(exchange, roleNames))
              .then(knownRoles(roleNames))
              .then(hasher.hash(create.getPassword()))
              .flatMap(
                  hash -> {
                    UserRow row =
                        UserRow.newLocal(
                            id,
                            create.getUsername(),
                            create.getDisplayName(),
                            create.getEmail(),
                            hash,
                            labels,
                            Boolean.TRUE.equals(create.getPasswordChangeRequired()),
                            roleNames,
                            Rows.now());
                    return tx.transactional(
                        users
                            .insert(row)
                            .then(access.success(exchange, "user.create", "user", id.toString())));
                  })
              .onErrorMap(
                  DuplicateKeyException.class,
                  e -> ApiProblem.conflict("A user named " + create.getUsername() + " exists"))
              .then(users.findById(id))
              .map(user -> ResponseEntity.status(HttpStatus.CREATED).body(user.toApi()));
        });
  }

  @Override
  public Mono<ResponseEntity<User>> updateUser(
      UUID userId, Mono<UserUpdate> body, ServerWebExchange exchange) {
    return body.flatMap(
        update ->
            existing(userId)
                .flatMap(
                    before ->
                        access
                            .require(exchange, before.labels(), null, userId.toString())
                            .then(
                                update.getRoles() == null
                                    ? Mono.<Void>empty()
                                    : mayAssignRoles(exchange, update.getRoles())
                                        .then(knownRoles(update.getRoles())))
                            .then(apply(exchange, before, update)))
                .then(Mono.fromRunnable(credentials::invalidate))
                .then(users.findById(userId))
                .map(user -> ResponseEntity.ok(user.toApi())));
  }

  private Mono<Void> apply(ServerWebExchange exchange, UserRow before, UserUpdate update) {
    if (before.fromDirectory()
        && (update.getPassword() != null
            || update.getDisplayName() != null
            || update.getEmail() != null)) {
      return Mono.error(
          new ApiProblem(
              ProblemType.DIRECTORY_USER,
              before.username()
                  + " comes from "
                  + before.source()
                  + ": change the password, display name or e-mail in the directory (Airlock"
                  + " copies them at the next sync)"));
    }
    UserRow after =
        new UserRow(
            before.id(),
            before.rowNo(),
            before.username(),
            update.getDisplayName() != null ? update.getDisplayName() : before.displayName(),
            update.getEmail() != null ? update.getEmail() : before.email(),
            before.passwordHash(),
            update.getLabels() != null ? update.getLabels() : before.labels(),
            update.getDisabled() != null ? update.getDisabled() : before.disabled(),
            before.passwordChangeRequired(),
            before.failedLogins(),
            before.lockedUntil(),
            before.createdAt(),
            Rows.now(),
            before.lastLoginAt(),
            before.roles(),
            before.source(),
            before.directorySourceId(),
            before.externalKey());
    if (after.disabled() && before.id().equals(Access.caller(exchange).userId())) {
      return Mono.error(ApiProblem.conflict("You cannot disable your own account"));
    }
    Mono<String> newHash =
        update.getPassword() == null ? Mono.empty() : hasher.hash(update.getPassword());
    List<String> changed = new ArrayList<>();
    if (update.getRoles() != null) {
      changed.add("roles");
    }
    if (update.getPassword() != null) {
      changed.add("password");
    }
    if (update.getDisabled() != null) {
      changed.add(after.disabled() ? "disabled" : "enabled");
    }
    // Disabling shuts the account off (sessions, API keys, live remote sessions); a new
    // password only ends its login sessions.
    Mono<List<SessionRevoker.LiveSession>> shutOff;
    if (after.disabled() && !before.disabled()) {
      shutOff = sessions.endAccess(before.id(), "account disabled");
    } else if (after.disabled() || update.getPassword() != null) {
      shutOff = sessions.revokeAll(before.id(), "account changed").thenReturn(List.of());
    } else {
      shutOff = Mono.just(List.of());
    }
    return newHash
        .singleOptional()
        .flatMap(
            hash ->
                tx.transactional(
                    users
                        .updateProfile(after)
                        .then(
                            update.getRoles() == null
                                ? Mono.empty()
                                : users.setRoles(before.id(), update.getRoles()))
                        .then(
                            hash.map(h -> users.setPassword(before.id(), h, true))
                                .orElse(Mono.empty()))
                        .then(shutOff)
                        .flatMap(
                            live ->
                                access
                                    .success(
                                        exchange,
                                        "user.update",
                                        "user",
                                        before.id() + (changed.isEmpty() ? "" : " " + changed))
                                    .thenReturn(live))))
        .flatMap(sessions::cut);
  }

  @Override
  public Mono<ResponseEntity<Void>> deleteUser(UUID userId, ServerWebExchange exchange) {
    return existing(userId)
        .flatMap(
            row -> {
              if (row.id().equals(Access.caller(exchange).userId())) {
                return Mono.error(ApiProblem.conflict("You cannot delete your own account"));
              }
              return access
                  .require(exchange, row.labels(), null, userId.toString())
                  .then(
                      tx.transactional(
                          users
                              .delete(userId)
                              .then(
                                  access.success(
                                      exchange,
                                      "user.delete",
                                      "user",
                                      userId + " (" + row.username() + ")"))));
            })
        .then(Mono.fromRunnable(credentials::invalidate))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<UserRow> existing(UUID userId) {
    return users
        .findById(userId)
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("user", userId)));
  }

  private Mono<Void> mayAssignRoles(ServerWebExchange exchange, Collection<String> names) {
    if (names.isEmpty() || Access.caller(exchange).grants().allows("role", "update", Map.of())) {
      return Mono.empty();
    }
    return access.forbid(
        exchange,
        String.join(",", names),
        "assigning roles needs role:update",
        "Assigning roles needs the role:update permission, which your roles lack");
  }

  private Mono<Void> knownRoles(Collection<String> names) {
    return roles
        .missing(Set.copyOf(names))
        .flatMap(
            missing ->
                missing.isEmpty()
                    ? Mono.empty()
                    : Mono.error(ApiProblem.validation("roles", "no such role: " + missing)));
  }
}
