package dev.airlock.signal.token;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.airlock.protocol.message.IceServerConfig;
import dev.airlock.signal.ThisNode;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import reactor.core.publisher.Mono;

/**
 * Verifies a client's connect token offline: signed by the platform (ES256, a key of its JWKS),
 * issued by the configured issuer, for audience {@value #AUDIENCE}, within its time window (30 s
 * skew), for this node, with every claim a session needs. Does not redeem it: that is the
 * platform's {@code session-starts}, which refuses a replay.
 */
public class ConnectTokenVerifier {

  /** The audience of connect tokens. */
  public static final String AUDIENCE = "airlock-signal";

  private final PlatformKeys keys;
  private final ThisNode node;

  public ConnectTokenVerifier(PlatformKeys keys, ThisNode node) {
    this.keys = keys;
    this.node = node;
  }

  /**
   * @return the token's content; fails with {@link TokenRejectedException} saying why it was
   *     refused, or another error when the platform's keys cannot be fetched
   */
  public Mono<ConnectToken> verify(String token) {
    if (token == null || token.isBlank()) {
      return Mono.error(new TokenRejectedException("hello without a connectToken"));
    }
    return keys.verify(token, node.issuer(), AUDIENCE).map(this::read);
  }

  /** A target name as {@code openapi/airlock.yaml}'s {@code TunnelTargetName} allows it. */
  private static final java.util.regex.Pattern TUNNEL_TARGET =
      java.util.regex.Pattern.compile(
          "^(ssh|app:[a-z0-9][a-z0-9-]{0,62}|tcp:[1-9][0-9]{0,4}|nodes)$");

  private ConnectToken read(JWTClaimsSet claims) {
    String nod = string(claims, "nod");
    if (!node.id().equals(nod)) {
      throw new TokenRejectedException("token is for node " + nod + " (this is " + node.id() + ")");
    }
    String mode = oneOf(claims, "mod", Set.of("control", "view", "tunnel"));
    String transport = oneOf(claims, "trp", Set.of("auto", "relay"));
    return new ConnectToken(
        uuid(claims, "sid"),
        uuid(claims, "agt"),
        nod,
        mode,
        transport,
        iceServers(claims),
        present(claims.getJWTID(), "jti"),
        present(claims.getSubject(), "sub"),
        string(claims, "name"),
        // Tokens of a platform before these claims: nothing crosses, never idle, ask 30 s.
        claims.getClaim("clp") == null
            ? "none"
            : oneOf(claims, "clp", Set.of("none", "read", "write", "both")),
        seconds(claims, "idl", 0),
        seconds(claims, "cns", 30),
        "tunnel".equals(mode) ? tunnelTarget(claims) : null,
        "tunnel".equals(mode) ? route(claims) : null,
        claims.getExpirationTime().toInstant());
  }

  /** A tunnel routed to a trusted cluster ({@code rcl}, {@code rnd}, {@code rls}, {@code lgn}). */
  private static ConnectToken.Route route(JWTClaimsSet claims) {
    if (claims.getClaim("rcl") == null) {
      return null;
    }
    try {
      List<String> roles = claims.getStringListClaim("rls");
      return new ConnectToken.Route(
          string(claims, "rcl"),
          claims.getStringClaim("rnd"),
          claims.getStringClaim("lgn"),
          roles == null ? List.of() : List.copyOf(roles));
    } catch (ParseException e) {
      throw new TokenRejectedException("malformed token: " + e.getMessage());
    }
  }

  private static String tunnelTarget(JWTClaimsSet claims) {
    String target = string(claims, "tgt");
    if (!TUNNEL_TARGET.matcher(target).matches()) {
      throw new TokenRejectedException(
          "malformed token: claim tgt is " + target + " (expected: ssh, app:NAME or tcp:PORT)");
    }
    return target;
  }

  private static int seconds(JWTClaimsSet claims, String name, int absent) {
    Object value = claims.getClaim(name);
    if (value == null) {
      return absent;
    }
    if (!(value instanceof Number number)
        || number.longValue() < 0
        || number.longValue() > 86_400) {
      throw new TokenRejectedException(
          "malformed token: claim " + name + " is " + value + " (expected: 0..86400 seconds)");
    }
    return number.intValue();
  }

  private static String string(JWTClaimsSet claims, String name) {
    try {
      return present(claims.getStringClaim(name), name);
    } catch (ParseException e) {
      throw new TokenRejectedException("malformed token: claim " + name + " is not a string");
    }
  }

  private static String present(String value, String name) {
    if (value == null || value.isBlank()) {
      throw new TokenRejectedException("malformed token: claim " + name + " missing");
    }
    return value;
  }

  private static UUID uuid(JWTClaimsSet claims, String name) {
    String value = string(claims, name);
    try {
      return UUID.fromString(value);
    } catch (IllegalArgumentException e) {
      throw new TokenRejectedException(
          "malformed token: claim " + name + " is " + value + " (expected: a UUID)");
    }
  }

  private static String oneOf(JWTClaimsSet claims, String name, Set<String> allowed) {
    String value = string(claims, name);
    if (!allowed.contains(value)) {
      throw new TokenRejectedException(
          "malformed token: claim "
              + name
              + " is "
              + value
              + " (expected: one of "
              + allowed
              + ")");
    }
    return value;
  }

  private static List<IceServerConfig> iceServers(JWTClaimsSet claims) {
    Object ice = claims.getClaim("ice");
    if (ice == null) {
      return List.of();
    }
    String expected = " (expected: an array of {urls: [...], username?, credential?})";
    if (!(ice instanceof List<?> entries)) {
      throw new TokenRejectedException("malformed token: claim ice" + expected);
    }
    List<IceServerConfig> servers = new ArrayList<>();
    for (Object entry : entries) {
      if (!(entry instanceof Map<?, ?> map) || !(map.get("urls") instanceof List<?> urls)) {
        throw new TokenRejectedException("malformed token: claim ice" + expected);
      }
      IceServerConfig server = new IceServerConfig();
      List<String> strings = new ArrayList<>();
      for (Object url : urls) {
        if (!(url instanceof String text)) {
          throw new TokenRejectedException("malformed token: claim ice" + expected);
        }
        strings.add(text);
      }
      server.setUrls(strings);
      if (map.get("username") instanceof String username) {
        server.setUsername(username);
      }
      if (map.get("credential") instanceof String credential) {
        server.setCredential(credential);
      }
      servers.add(server);
    }
    return servers;
  }
}
