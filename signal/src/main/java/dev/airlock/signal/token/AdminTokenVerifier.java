package dev.airlock.signal.token;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.airlock.signal.ThisNode;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import reactor.core.publisher.Mono;

/**
 * Verifies the bearer token of an admin API call: signed by the platform (ES256), issued by the
 * configured issuer, for audience {@value #AUDIENCE}, expiring within {@link #MAX_LIFETIME}, and
 * naming this node in {@code nod}.
 */
public class AdminTokenVerifier {

  /** The audience of admin tokens. */
  public static final String AUDIENCE = "airlock-signal-admin";

  /** The longest an admin token may live. */
  public static final Duration MAX_LIFETIME = Duration.ofSeconds(60);

  private final PlatformKeys keys;
  private final ThisNode node;
  private final Clock clock;

  public AdminTokenVerifier(PlatformKeys keys, ThisNode node, Clock clock) {
    this.keys = keys;
    this.node = node;
    this.clock = clock;
  }

  /**
   * @param authorization the request's {@code Authorization} header, or null
   * @return completes when authorised; fails with {@link TokenRejectedException} otherwise
   */
  public Mono<Void> verify(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Mono.error(
          new TokenRejectedException("missing Authorization: Bearer <platform-signed JWT>"));
    }
    return keys.verify(authorization.substring(7).strip(), node.issuer(), AUDIENCE)
        .doOnNext(this::check)
        .then();
  }

  private void check(JWTClaimsSet claims) {
    Instant latest = clock.instant().plus(MAX_LIFETIME).plus(PlatformKeys.CLOCK_SKEW);
    if (claims.getExpirationTime().toInstant().isAfter(latest)) {
      throw new TokenRejectedException(
          "admin token valid until "
              + claims.getExpirationTime().toInstant()
              + " (expected: at most "
              + MAX_LIFETIME.toSeconds()
              + " s)");
    }
    String nod;
    try {
      nod = claims.getStringClaim("nod");
    } catch (ParseException e) {
      nod = null;
    }
    if (!node.id().equals(nod)) {
      throw new TokenRejectedException(
          "admin token is for node " + nod + " (this is " + node.id() + ")");
    }
  }
}
