package dev.airlock.platform.cluster;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.Rule;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.rbac.Grants;
import dev.airlock.platform.role.RoleRepository;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * As a leaf cluster: turns a request of the link (its API key) made for one of the root cluster's
 * users into that user's caller here, with the local roles that {@code airlock.trust.role-map}
 * gives their root roles. The user's name becomes {@code ROOT/NAME}, so that every audit event says
 * which cluster they came from; a root role without a mapping grants nothing.
 */
@Component
public class RootUsers {

  /** The root cluster's name; present on every request the link makes for a user. */
  public static final String CLUSTER_HEADER = "Airlock-Cluster";

  /** The user's name in the root cluster. */
  public static final String USER_HEADER = "Airlock-Cluster-User";

  /** The user's roles in the root cluster, comma-separated. */
  public static final String ROLES_HEADER = "Airlock-Cluster-Roles";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,62}");

  private final AirlockProperties.Trust trust;
  private final RoleRepository roles;

  public RootUsers(AirlockProperties properties, RoleRepository roles) {
    this.trust = properties.trust();
    this.roles = roles;
  }

  /** Whether the request claims to be made for another cluster's user. */
  public static boolean claimed(HttpHeaders headers) {
    return headers.containsHeader(CLUSTER_HEADER)
        || headers.containsHeader(USER_HEADER)
        || headers.containsHeader(ROLES_HEADER);
  }

  /**
   * The root user the request is made for, as a caller of this cluster.
   *
   * @param link the authenticated caller, which must be an API key of {@code
   *     airlock.trust.link-user}
   * @return the caller, or an error {@link Refused} saying why the claim is not accepted
   */
  public Mono<Caller> actFor(Caller link, HttpHeaders headers) {
    if (!trust.leaf()) {
      return Mono.error(
          new Refused(
              "this cluster trusts no root cluster (airlock.trust.root and link-user are unset)"));
    }
    if (link.method() != Caller.AuthMethod.API_KEY || !trust.linkUser().equals(link.username())) {
      return Mono.error(
          new Refused(
              "only the trusted cluster's link ("
                  + trust.linkUser()
                  + "'s API key) may act for another cluster's users, not "
                  + link.username()));
    }
    String cluster = headers.getFirst(CLUSTER_HEADER);
    String user = headers.getFirst(USER_HEADER);
    if (!trust.root().equals(cluster)) {
      return Mono.error(
          new Refused(
              CLUSTER_HEADER
                  + ": '"
                  + cluster
                  + "' (expected: the trusted root, "
                  + trust.root()
                  + ")"));
    }
    if (user == null || !NAME.matcher(user).matches()) {
      return Mono.error(new Refused(USER_HEADER + ": '" + user + "' (expected: a user name)"));
    }
    String listed = headers.getFirst(ROLES_HEADER);
    List<String> rootRoles =
        listed == null || listed.isBlank()
            ? List.of()
            : Arrays.stream(listed.split(",")).map(String::trim).filter(r -> !r.isEmpty()).toList();
    Set<String> local = new LinkedHashSet<>();
    rootRoles.forEach(role -> local.addAll(trust.roleMap().getOrDefault(role, List.of())));
    return Flux.fromIterable(local)
        .concatMap(name -> roles.find(name))
        .collectList()
        .map(
            found -> {
              List<Rule> rules = new ArrayList<>();
              found.forEach(role -> rules.addAll(role.getRules()));
              return new Caller(
                  link.userId(),
                  cluster + "/" + user,
                  Caller.AuthMethod.API_KEY,
                  null,
                  link.apiKeyId(),
                  new Grants(rules),
                  found.stream().map(r -> r.getName()).toList(),
                  false);
            });
  }

  /** A claim to act for another cluster's user that this cluster does not accept. */
  public static final class Refused extends RuntimeException {
    Refused(String message) {
      super(message, null, false, false);
    }
  }
}
