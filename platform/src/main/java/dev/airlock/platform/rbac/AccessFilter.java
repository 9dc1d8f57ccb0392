package dev.airlock.platform.rbac;

import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.auth.Credentials;
import dev.airlock.platform.auth.InvalidCredentialsException;
import dev.airlock.platform.cluster.RootUsers;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.web.SourceAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.reactive.result.method.annotation.RequestMappingHandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Enforces, before any handler runs, the permission each API operation declares: public operations
 * pass; others need valid bearer credentials (refusals are audited as {@code auth.token}); resource
 * permissions need a rule that could allow them. Handlers then check the addressed object with
 * {@link Access}.
 */
@Component
@Order(0)
public class AccessFilter implements WebFilter {

  private static final String API = "/api/";
  private static final Set<String> WHILE_PASSWORD_CHANGE_REQUIRED =
      Set.of("getMe", "changePassword", "logout");

  private final RequestMappingHandlerMapping handlers;
  private final PermissionRegistry permissions;
  private final Credentials credentials;
  private final AuditLog audit;
  private final Access access;
  private final RootUsers rootUsers;

  public AccessFilter(
      @Qualifier("requestMappingHandlerMapping") RequestMappingHandlerMapping handlers,
      PermissionRegistry permissions,
      Credentials credentials,
      AuditLog audit,
      Access access,
      RootUsers rootUsers) {
    this.rootUsers = rootUsers;
    this.handlers = handlers;
    this.permissions = permissions;
    this.credentials = credentials;
    this.audit = audit;
    this.access = access;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    if (!exchange.getRequest().getPath().value().startsWith(API)) {
      return chain.filter(exchange);
    }
    return handlers
        .getHandler(exchange)
        .onErrorResume(e -> Mono.empty())
        .flatMap(
            handler -> {
              if (!(handler instanceof HandlerMethod method)) {
                return Mono.<Void>empty();
              }
              String operation = method.getMethod().getName();
              Permission permission =
                  permissions
                      .forOperation(operation)
                      .orElseThrow(
                          () ->
                              new IllegalStateException(
                                  "Operation " + operation + " has no declared permission"));
              exchange.getAttributes().put(Access.PERMISSION, permission);
              return authorize(exchange, operation, permission);
            })
        .then(Mono.defer(() -> chain.filter(exchange)));
  }

  private Mono<Void> authorize(
      ServerWebExchange exchange, String operation, Permission permission) {
    if (permission.scope() == Permission.Scope.PUBLIC) {
      return Mono.empty();
    }
    List<String> headers = exchange.getRequest().getHeaders().getOrEmpty(HttpHeaders.AUTHORIZATION);
    if (headers.isEmpty()) {
      return Mono.error(
          unauthenticated(
              "This operation needs credentials: send"
                  + " 'Authorization: Bearer <access token or API key>'",
              "Bearer"));
    }
    String header = headers.get(0);
    if (headers.size() > 1 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return refuse(exchange, "not a bearer credential");
    }
    String credential = header.substring(7).trim();
    if (credential.isEmpty() || credential.length() > 4096) {
      return refuse(exchange, "empty or oversized credential");
    }
    return credentials
        .authenticate(credential)
        .onErrorResume(InvalidCredentialsException.class, e -> refuse(exchange, e.getMessage()))
        .flatMap(caller -> forWhom(exchange, caller))
        .flatMap(
            caller -> {
              exchange.getAttributes().put(Access.CALLER, caller);
              if (caller.passwordChangeRequired()
                  && !WHILE_PASSWORD_CHANGE_REQUIRED.contains(operation)) {
                return Mono.error(
                    new ApiProblem(
                        ProblemType.PASSWORD_CHANGE_REQUIRED,
                        "Choose a new password first: PUT /api/v1/auth/password"));
              }
              if (permission.scope() == Permission.Scope.RESOURCE
                  && !permission.self()
                  && !caller.grants().mayAllow(permission.kind(), permission.verb())) {
                return access.forbid(
                    exchange,
                    null,
                    "not allowed: " + permission,
                    "Your roles do not allow "
                        + permission.verb()
                        + " on "
                        + permission.kind()
                        + " (needs "
                        + permission
                        + ")");
              }
              return Mono.<Void>empty();
            });
  }

  /**
   * The caller itself, or, for a trusted root cluster's link acting for one of the root's users
   * ({@link RootUsers}), that user.
   */
  private Mono<Caller> forWhom(ServerWebExchange exchange, Caller caller) {
    if (!RootUsers.claimed(exchange.getRequest().getHeaders())) {
      return Mono.just(caller);
    }
    return rootUsers
        .actFor(caller, exchange.getRequest().getHeaders())
        .onErrorResume(
            RootUsers.Refused.class,
            refused -> {
              exchange.getAttributes().put(Access.CALLER, caller);
              return access.forbid(
                  exchange,
                  null,
                  "acting for another cluster's user refused: " + refused.getMessage(),
                  "Cannot act for another cluster's user: " + refused.getMessage());
            });
  }

  private <T> Mono<T> refuse(ServerWebExchange exchange, String reason) {
    return audit
        .append(
            new AuditRecord(
                "anonymous",
                null,
                "auth.token",
                null,
                exchange.getRequest().getMethod() + " " + exchange.getRequest().getPath().value(),
                AuditOutcome.DENIED,
                reason,
                SourceAddress.of(exchange)))
        .then(
            Mono.error(
                unauthenticated(
                    "The credentials were refused: " + reason, "Bearer error=\"invalid_token\"")));
  }

  private static ApiProblem unauthenticated(String detail, String challenge) {
    return new ApiProblem(
        ProblemType.UNAUTHENTICATED,
        detail,
        List.of(),
        Map.of(HttpHeaders.WWW_AUTHENTICATE, challenge));
  }
}
