package dev.airlock.platform.session;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.IceServer;
import dev.airlock.platform.auth.SigningKeys;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Signs connect tokens: ES256 JWTs with audience {@code airlock-signal}, valid {@code
 * airlock.sessions.connect-token-ttl} (at most 60 s), bound to one session ({@code sid}), agent
 * ({@code agt}), signal node ({@code nod}), mode and transport, and carrying what the agent
 * enforces: the session's ICE servers, the clipboard policy ({@code clp}), the idle disconnect
 * ({@code idl}, seconds) and the consent timeout ({@code cns}, seconds). A tunnel's token (mode
 * {@code tunnel}) also names the edge node's target ({@code tgt}) and, for {@code ssh}, the login
 * the caller was allowed ({@code lgn}); the signal node passes them on to the node agent. A tunnel
 * routed to a trusted cluster's link also names the leaf's node ({@code rnd}), this cluster's name
 * ({@code rcl}) and the caller's roles here ({@code rls}), which the leaf maps to its own. Signal
 * nodes verify them offline with the platform's JWKS; each one is redeemed once, through the
 * platform, so a replay fails on every node.
 */
@Component
public class ConnectTokenIssuer {

  /** The audience of connect tokens. */
  public static final String AUDIENCE = "airlock-signal";

  private final SigningKeys keys;
  private final AirlockProperties properties;

  public ConnectTokenIssuer(SigningKeys keys, AirlockProperties properties) {
    this.keys = keys;
    this.properties = properties;
  }

  /**
   * What a connect token says.
   *
   * @param tunnelTarget the edge node's target, for a tunnel; null otherwise
   * @param login the SSH login, for a tunnel to {@code ssh}; null otherwise
   * @param route for a tunnel to a trusted cluster, what the leaf needs to decide; null otherwise
   */
  public record Grant(
      String tokenId,
      String sessionId,
      String userId,
      String username,
      String agentId,
      String nodeId,
      String mode,
      String transport,
      List<IceServer> iceServers,
      String clipboard,
      long idleSeconds,
      long consentSeconds,
      String tunnelTarget,
      String login,
      Route route,
      Instant expiresAt) {}

  /**
   * A tunnel routed to a trusted (leaf) cluster.
   *
   * @param cluster this cluster's name, as the leaf knows its root
   * @param node the leaf's node, or null for its node list
   * @param roles the caller's roles in this cluster
   */
  public record Route(String cluster, String node, List<String> roles) {}

  /** The token for {@code grant}. */
  public Mono<String> issue(Grant grant) {
    Instant now = Instant.now();
    List<Map<String, Object>> ice =
        grant.iceServers().stream()
            .map(
                server -> {
                  Map<String, Object> entry = new LinkedHashMap<>();
                  entry.put("urls", server.getUrls());
                  if (server.getUsername() != null) {
                    entry.put("username", server.getUsername());
                    entry.put("credential", server.getCredential());
                  }
                  return entry;
                })
            .toList();
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .issuer(properties.tokens().issuer())
            .audience(AUDIENCE)
            .subject(grant.userId())
            .jwtID(grant.tokenId())
            .issueTime(Date.from(now))
            .notBeforeTime(Date.from(now))
            .expirationTime(Date.from(grant.expiresAt()))
            .claim("sid", grant.sessionId())
            .claim("agt", grant.agentId())
            .claim("nod", grant.nodeId())
            .claim("mod", grant.mode())
            .claim("trp", grant.transport())
            .claim("ice", ice)
            .claim("clp", grant.clipboard())
            .claim("idl", grant.idleSeconds())
            .claim("cns", grant.consentSeconds())
            .claim("name", grant.username());
    if (grant.tunnelTarget() != null) {
      claims.claim("tgt", grant.tunnelTarget());
    }
    if (grant.login() != null) {
      claims.claim("lgn", grant.login());
    }
    if (grant.route() != null) {
      claims.claim("rcl", grant.route().cluster());
      claims.claim("rls", grant.route().roles());
      if (grant.route().node() != null) {
        claims.claim("rnd", grant.route().node());
      }
    }
    return keys.sign(claims.build());
  }
}
