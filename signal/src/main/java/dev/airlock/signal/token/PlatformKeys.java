package dev.airlock.signal.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;

/**
 * Verifies JWTs the platform signed (ES256), offline, with the platform's JWKS. The key set is
 * fetched on first use and cached; a token naming an unknown key id refetches it, at most once per
 * {@link #REFETCH_INTERVAL}, so a rotated key is picked up quickly and forged key ids cannot make
 * this node hammer the platform.
 */
public class PlatformKeys {

  /** The least time between two fetches of the key set. */
  public static final Duration REFETCH_INTERVAL = Duration.ofSeconds(5);

  /** How far {@code exp} and {@code nbf} may be off, for clocks that drift. */
  public static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private final Mono<JWKSet> fetch;
  private final Clock clock;
  private final LongSupplier nanoClock;
  private volatile Mono<Map<String, ECDSAVerifier>> verifiers;
  private volatile long fetchedAt;

  /**
   * @param fetch fetches the key set from the platform (subscribed on each fetch)
   */
  public PlatformKeys(Mono<JWKSet> fetch, Clock clock, LongSupplier nanoClock) {
    this.fetch = fetch;
    this.clock = clock;
    this.nanoClock = nanoClock;
    this.verifiers = load();
    this.fetchedAt = nanoClock.getAsLong() - REFETCH_INTERVAL.toNanos();
  }

  /**
   * Checks the signature, issuer, audience and time window of {@code token}.
   *
   * @return its claims; fails with {@link TokenRejectedException} when the token is refused, or
   *     another error when the key set cannot be fetched
   */
  public Mono<JWTClaimsSet> verify(String token, String issuer, String audience) {
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) {
      return Mono.error(new TokenRejectedException("malformed token (expected: a signed JWT)"));
    }
    if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
      return Mono.error(
          new TokenRejectedException(
              "token signed with " + jwt.getHeader().getAlgorithm() + " (expected: ES256)"));
    }
    String kid = jwt.getHeader().getKeyID();
    if (kid == null) {
      return Mono.error(new TokenRejectedException("token without a key id (kid)"));
    }
    return verifier(kid).map(verifier -> check(jwt, verifier, issuer, audience));
  }

  private Mono<ECDSAVerifier> verifier(String kid) {
    return verifiers.flatMap(
        known -> {
          ECDSAVerifier found = known.get(kid);
          if (found != null) {
            return Mono.just(found);
          }
          Mono<Map<String, ECDSAVerifier>> refetched = refetch();
          if (refetched == null) {
            return Mono.error(unknownKey(kid));
          }
          return refetched.flatMap(
              reloaded -> {
                ECDSAVerifier again = reloaded.get(kid);
                return again != null ? Mono.just(again) : Mono.error(unknownKey(kid));
              });
        });
  }

  private static TokenRejectedException unknownKey(String kid) {
    return new TokenRejectedException("token signed with unknown key " + kid);
  }

  /** A fresh fetch, or null when the last one is younger than the refetch interval. */
  private synchronized Mono<Map<String, ECDSAVerifier>> refetch() {
    if (nanoClock.getAsLong() - fetchedAt < REFETCH_INTERVAL.toNanos()) {
      return null;
    }
    verifiers = load();
    return verifiers;
  }

  private Mono<Map<String, ECDSAVerifier>> load() {
    return Mono.defer(
            () -> {
              fetchedAt = nanoClock.getAsLong();
              return fetch;
            })
        .map(PlatformKeys::toVerifiers)
        // Keep a good key set until an unknown kid asks for a new one; never keep a failure.
        .cache(keys -> Duration.ofHours(1), error -> Duration.ZERO, () -> Duration.ZERO);
  }

  private static Map<String, ECDSAVerifier> toVerifiers(JWKSet set) {
    Map<String, ECDSAVerifier> verifiers = new HashMap<>();
    for (JWK key : set.getKeys()) {
      if (key instanceof ECKey ec && key.getKeyID() != null) {
        try {
          verifiers.put(key.getKeyID(), new ECDSAVerifier(ec.toPublicJWK()));
        } catch (JOSEException e) {
          // A key of another curve cannot verify ES256; skip it rather than refuse every token.
        }
      }
    }
    return Map.copyOf(verifiers);
  }

  private JWTClaimsSet check(
      SignedJWT jwt, ECDSAVerifier verifier, String issuer, String audience) {
    try {
      if (!jwt.verify(verifier)) {
        throw new TokenRejectedException("bad token signature");
      }
    } catch (JOSEException e) {
      throw new TokenRejectedException("bad token signature");
    }
    JWTClaimsSet claims;
    try {
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new TokenRejectedException("malformed token claims");
    }
    if (!issuer.equals(claims.getIssuer())) {
      throw new TokenRejectedException(
          "token issued by " + claims.getIssuer() + " (expected: " + issuer + ")");
    }
    List<String> audiences = claims.getAudience();
    if (audiences == null || !audiences.contains(audience)) {
      throw new TokenRejectedException(
          "token for audience " + audiences + " (expected: " + audience + ")");
    }
    Instant now = clock.instant();
    Date exp = claims.getExpirationTime();
    if (exp == null) {
      throw new TokenRejectedException("token without an expiry (exp)");
    }
    if (now.isAfter(exp.toInstant().plus(CLOCK_SKEW))) {
      throw new TokenRejectedException("token expired at " + exp.toInstant());
    }
    Date nbf = claims.getNotBeforeTime();
    if (nbf != null && now.plus(CLOCK_SKEW).isBefore(nbf.toInstant())) {
      throw new TokenRejectedException("token not valid before " + nbf.toInstant());
    }
    return claims;
  }
}
