package dev.airlock.platform.role;

import dev.airlock.platform.api.RolesApi;
import dev.airlock.platform.api.model.Role;
import dev.airlock.platform.api.model.RoleCreate;
import dev.airlock.platform.api.model.RolePage;
import dev.airlock.platform.api.model.RoleReplace;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.web.Cursors;
import java.util.Map;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Serves the roles operations. Roles carry no labels, so only unlabelled rules select them. */
@RestController
public class RoleHandler implements RolesApi {

  private static final String BUILT_IN = "admin";

  private final RoleRepository roles;
  private final Access access;
  private final TransactionalOperator tx;
  private final Credentials credentials;

  public RoleHandler(
      RoleRepository roles, Access access, TransactionalOperator tx, Credentials credentials) {
    this.roles = roles;
    this.access = access;
    this.tx = tx;
    this.credentials = credentials;
  }

  @Override
  public Mono<ResponseEntity<RolePage>> listRoles(
      Integer limit, String cursor, ServerWebExchange exchange) {
    String after = Cursors.decodeName(cursor);
    return access
        .require(exchange, Map.of(), null, null)
        .thenMany(roles.page(after, limit + 1))
        .collectList()
        .map(
            list -> {
              RolePage page = new RolePage(list.size() > limit ? list.subList(0, limit) : list);
              if (list.size() > limit) {
                page.setNextCursor(Cursors.encode(list.get(limit - 1).getName()));
              }
              return ResponseEntity.ok(page);
            });
  }

  @Override
  public Mono<ResponseEntity<Role>> getRole(String roleName, ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, roleName)
        .then(roles.find(roleName))
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("role", roleName)))
        .map(ResponseEntity::ok);
  }

  @Override
  public Mono<ResponseEntity<Role>> createRole(Mono<RoleCreate> body, ServerWebExchange exchange) {
    return body.flatMap(
        create ->
            access
                .require(exchange, Map.of(), null, create.getName())
                .then(
                    tx.transactional(
                        roles
                            .insert(create.getName(), create.getDescription(), create.getRules())
                            .then(record(exchange, "role.create", create.getName()))))
                .onErrorMap(
                    DuplicateKeyException.class,
                    e -> ApiProblem.conflict("A role named " + create.getName() + " exists"))
                .then(roles.find(create.getName()))
                .map(role -> ResponseEntity.status(HttpStatus.CREATED).body(role)));
  }

  @Override
  public Mono<ResponseEntity<Role>> replaceRole(
      String roleName, Mono<RoleReplace> body, ServerWebExchange exchange) {
    return body.flatMap(
        replace ->
            access
                .require(exchange, Map.of(), null, roleName)
                .then(existing(roleName))
                .flatMap(
                    role ->
                        tx.transactional(
                            roles
                                .replace(roleName, replace.getDescription(), replace.getRules())
                                .then(record(exchange, "role.update", roleName))))
                .then(Mono.fromRunnable(credentials::invalidate))
                .then(roles.find(roleName))
                .map(ResponseEntity::ok));
  }

  @Override
  public Mono<ResponseEntity<Void>> deleteRole(String roleName, ServerWebExchange exchange) {
    return access
        .require(exchange, Map.of(), null, roleName)
        .then(existing(roleName))
        .flatMap(
            role ->
                tx.transactional(
                    roles
                        .holders(roleName)
                        .flatMap(
                            holders ->
                                holders > 0
                                    ? Mono.error(
                                        ApiProblem.conflict(
                                            "Role "
                                                + roleName
                                                + " is held by "
                                                + holders
                                                + " users or API keys; take it from them first"))
                                    : roles
                                        .delete(roleName)
                                        .then(record(exchange, "role.delete", roleName)))))
        .then(Mono.fromRunnable(credentials::invalidate))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<Role> existing(String roleName) {
    return roles
        .find(roleName)
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("role", roleName)))
        .flatMap(
            role ->
                BUILT_IN.equals(role.getName())
                    ? Mono.error(
                        ApiProblem.conflict("The built-in admin role cannot be changed or deleted"))
                    : Mono.just(role));
  }

  private Mono<Void> record(ServerWebExchange exchange, String action, String target) {
    return access.success(exchange, action, "role", target);
  }
}
