package dev.airlock.platform.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.platform.AirlockProperties;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Issues and verifies access tokens: ES256 JWTs with a key id, audience {@code airlock-api}, valid
 * for {@code airlock.tokens.access-ttl} (at most 15 minutes), bound to a login session.
 */
@Component
public class AccessTokens {

  /** The audience of access tokens. */
  public static final String AUDIENCE = "airlock-api";

  private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private final SigningKeys keys;
  private final AirlockProperties.Tokens settings;

  // ES256 verification dominates an authenticated request's CPU; a token verified once stays
  // valid until it expires, so its claims are kept until then. Revocation is checked separately
  // on every request (the session), so this cache never extends what a token may do.
  private final Cache<String, Claims> verified;

  public AccessTokens(SigningKeys keys, AirlockProperties properties) {
    this.keys = keys;
    this.settings = properties.tokens();
    this.verified =
        Caffeine.newBuilder()
            .maximumSize(100_000)
            .expireAfterWrite(settings.accessTtl().plus(CLOCK_SKEW))
            .build();
  }

  /** How long an access token is valid. */
  public Duration ttl() {
    return settings.accessTtl();
  }

  /** Signs an access token for {@code userId} in {@code sessionId}. */
  public Mono<String> issue(
      UUID userId, String username, UUID sessionId, boolean passwordChangeRequired) {
    Instant now = Instant.now();
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .issuer(settings.issuer())
            .audience(AUDIENCE)
            .subject(userId.toString())
            .jwtID(UUID.randomUUID().toString())
            .issueTime(Date.from(now))
            .notBeforeTime(Date.from(now))
            .expirationTime(Date.from(now.plus(settings.accessTtl())))
            .claim("sid", sessionId.toString())
            .claim("name", username);
    if (passwordChangeRequired) {
      claims.claim("pcr", true);
    }
    return keys.sign(claims.build());
  }

  /**
   * Verifies {@code token}'s signature, issuer, audience and lifetime; emits its claims, or an
   * {@link InvalidCredentialsException} saying why it is refused.
   */
  public Mono<Claims> verify(String token) {
    Claims known = verified.getIfPresent(token);
    if (known != null) {
      if (known.expiresAt().plus(CLOCK_SKEW).isAfter(Instant.now())) {
        return Mono.just(known);
      }
      verified.invalidate(token);
      return Mono.error(new InvalidCredentialsException("expired"));
    }
    SignedJWT jwt;
    try {
      jwt = SignedJWT.parse(token);
    } catch (ParseException e) {
      return Mono.error(new InvalidCredentialsException("malformed token"));
    }
    if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
      return Mono.error(
          new InvalidCredentialsException(
              "unsupported algorithm " + jwt.getHeader().getAlgorithm() + " (expected: ES256)"));
    }
    String kid = jwt.getHeader().getKeyID();
    if (kid == null) {
      return Mono.error(new InvalidCredentialsException("token names no signing key"));
    }
    return keys.verifier(kid)
        .flatMap(
            key -> {
              if (key.isEmpty()) {
                return Mono.error(new InvalidCredentialsException("unknown signing key"));
              }
              try {
                if (!jwt.verify(new ECDSAVerifier(key.get().toECPublicKey()))) {
                  return Mono.error(new InvalidCredentialsException("bad signature"));
                }
                Claims claims = claims(jwt.getJWTClaimsSet());
                verified.put(token, claims);
                return Mono.just(claims);
              } catch (JOSEException | ParseException e) {
                return Mono.error(new InvalidCredentialsException("bad signature"));
              } catch (InvalidCredentialsException e) {
                return Mono.error(e);
              }
            });
  }

  private Claims claims(JWTClaimsSet claims) throws ParseException {
    Instant now = Instant.now();
    if (!settings.issuer().equals(claims.getIssuer())) {
      throw new InvalidCredentialsException("wrong issuer");
    }
    if (claims.getAudience() == null || !claims.getAudience().contains(AUDIENCE)) {
      throw new InvalidCredentialsException("wrong audience");
    }
    if (claims.getExpirationTime() == null
        || claims.getExpirationTime().toInstant().plus(CLOCK_SKEW).isBefore(now)) {
      throw new InvalidCredentialsException("expired");
    }
    if (claims.getNotBeforeTime() != null
        && claims.getNotBeforeTime().toInstant().minus(CLOCK_SKEW).isAfter(now)) {
      throw new InvalidCredentialsException("not yet valid");
    }
    try {
      return new Claims(
          UUID.fromString(claims.getSubject()),
          claims.getStringClaim("name"),
          UUID.fromString(claims.getStringClaim("sid")),
          Boolean.TRUE.equals(claims.getBooleanClaim("pcr")),
          claims.getExpirationTime().toInstant());
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new InvalidCredentialsException("malformed claims");
    }
  }

  /** What a verified access token says. */
  public record Claims(
      UUID userId,
      String username,
      UUID sessionId,
      boolean passwordChangeRequired,
      Instant expiresAt) {}
}
