package dev.airlock.platform.rbac;

import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.web.SourceAddress;
import java.util.Map;
import java.util.UUID;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Decides, inside a handler, whether the caller may act on one object, using the permission the
 * operation declares (never one the handler names). A refusal is audited.
 */
@Component
public class Access {

  /** Exchange attribute holding the {@link Caller}. */
  public static final String CALLER = Access.class.getName() + ".caller";

  /** Exchange attribute holding the operation's {@link Permission}. */
  public static final String PERMISSION = Access.class.getName() + ".permission";

  private final AuditLog audit;

  public Access(AuditLog audit) {
    this.audit = audit;
  }

  /** The authenticated caller; only for operations that are not public. */
  public static Caller caller(ServerWebExchange exchange) {
    Caller caller = exchange.getAttribute(CALLER);
    if (caller == null) {
      throw new IllegalStateException("No caller: the operation is public or was not filtered");
    }
    return caller;
  }

  /** The declared permission of the operation being served. */
  public static Permission permission(ServerWebExchange exchange) {
    Permission permission = exchange.getAttribute(PERMISSION);
    if (permission == null) {
      throw new IllegalStateException("No permission was resolved for this operation");
    }
    return permission;
  }

  /**
   * Whether the caller may act on an object with {@code labels} owned by {@code owner} (null when
   * objects of this kind have no owner), under the operation's permission.
   */
  public static boolean allows(ServerWebExchange exchange, Map<String, String> labels, UUID owner) {
    Permission permission = permission(exchange);
    Caller caller = caller(exchange);
    if (permission.scope() != Permission.Scope.RESOURCE) {
      return true;
    }
    if (permission.self() && owner != null && owner.equals(caller.userId())) {
      return true;
    }
    return caller.grants().allows(permission.kind(), permission.verb(), labels);
  }

  /**
   * Completes when the caller may act on the object; otherwise audits the refusal and fails with
   * 403, or with 404 where owners pass without a rule (so others cannot probe what exists).
   */
  public Mono<Void> require(
      ServerWebExchange exchange, Map<String, String> labels, UUID owner, String target) {
    if (allows(exchange, labels, owner)) {
      return Mono.empty();
    }
    Permission permission = permission(exchange);
    String reason = "not allowed: " + permission;
    if (permission.self()) {
      return deny(exchange, target, reason)
          .then(Mono.error(ApiProblem.notFound(permission.kind().replace('_', ' '), target)));
    }
    return forbid(
        exchange,
        target,
        reason,
        "Your roles do not allow " + permission.verb() + " on this " + permission.kind());
  }

  /** Audits that the caller did {@code action} on {@code target} of {@code kind}. */
  public Mono<Void> success(ServerWebExchange exchange, String action, String kind, String target) {
    return success(exchange, action, kind, target, null);
  }

  /**
   * Audits that the caller did {@code action} on {@code target} of {@code kind}, with {@code
   * reason} (never a secret) saying what was done.
   */
  public Mono<Void> success(
      ServerWebExchange exchange, String action, String kind, String target, String reason) {
    Caller caller = caller(exchange);
    return audit.append(
        new AuditRecord(
            caller.username(),
            caller.userId().toString(),
            action,
            kind,
            target,
            AuditOutcome.SUCCESS,
            reason,
            SourceAddress.of(exchange)));
  }

  /**
   * Audits the refusal of the operation on {@code target}, then fails with 403 and {@code detail}.
   */
  public <T> Mono<T> forbid(
      ServerWebExchange exchange, String target, String reason, String detail) {
    return deny(exchange, target, reason)
        .then(Mono.error(new ApiProblem(ProblemType.FORBIDDEN, detail)));
  }

  /** Audits that the caller was refused the operation on {@code target}. */
  public Mono<Void> deny(ServerWebExchange exchange, String target, String reason) {
    Permission permission = permission(exchange);
    return deny(exchange, permission.kind(), permission.verb(), target, reason);
  }

  /**
   * Audits the refusal of {@code verb} on {@code target} of {@code kind} (where the handler checks
   * a verb other than the operation's), then fails with 403 and {@code detail}.
   */
  public <T> Mono<T> forbid(
      ServerWebExchange exchange,
      String kind,
      String verb,
      String target,
      String reason,
      String detail) {
    return deny(exchange, kind, verb, target, reason)
        .then(Mono.error(new ApiProblem(ProblemType.FORBIDDEN, detail)));
  }

  private Mono<Void> deny(
      ServerWebExchange exchange, String kind, String verb, String target, String reason) {
    Caller caller = caller(exchange);
    return audit.append(
        new AuditRecord(
            caller.username(),
            caller.userId().toString(),
            kind + "." + verb,
            kind,
            target,
            AuditOutcome.DENIED,
            reason,
            SourceAddress.of(exchange)));
  }
}
