package dev.airlock.platform.agent;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.platform.auth.InvalidCredentialsException;
import dev.airlock.platform.database.Rows;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Checks the proofs agents present when they reconnect: a JWT signed with the agent's own identity
 * key (ES256), audience {@code airlock-signal}, subject the agent id, valid at most {@link
 * #MAX_LIFETIME}, used once (its {@code jti} is kept until it expires, so a captured proof cannot
 * be replayed on another node).
 */
@Component
public class AgentProofs {

  /** The audience of an agent's proof. */
  public static final String AUDIENCE = "airlock-signal";

  /** The longest a proof may be valid. */
  public static final Duration MAX_LIFETIME = Duration.ofSeconds(120);

  private static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private static final Duration SWEEP_INTERVAL = Duration.ofMinutes(1);

  private final DatabaseClient db;
  private final AtomicLong lastSweep = new AtomicLong();

  public AgentProofs(DatabaseClient db) {
    this.db = db;
  }

  /** The agent id a proof claims, before it is verified; fails when it cannot be read. */
  public static UUID claimedAgent(String proof) {
    try {
      return UUID.fromString(SignedJWT.parse(proof).getJWTClaimsSet().getSubject());
    } catch (ParseException | IllegalArgumentException | NullPointerException e) {
      throw new InvalidCredentialsException("malformed agent proof");
    }
  }

  /**
   * Completes when {@code proof} was signed by {@code publicKeyJwk} for {@code agentId}, is fresh
   * and was not used before; otherwise fails with an {@link InvalidCredentialsException} saying
   * why.
   */
  public Mono<Void> verify(String proof, UUID agentId, String publicKeyJwk) {
    JWTClaimsSet claims;
    try {
      SignedJWT jwt = SignedJWT.parse(proof);
      if (!JWSAlgorithm.ES256.equals(jwt.getHeader().getAlgorithm())) {
        throw new InvalidCredentialsException(
            "agent proof algorithm " + jwt.getHeader().getAlgorithm() + " (expected: ES256)");
      }
      ECKey key = ECKey.parse(publicKeyJwk);
      if (!Curve.P_256.equals(key.getCurve())
          || !jwt.verify(new ECDSAVerifier(key.toECPublicKey()))) {
        throw new InvalidCredentialsException("agent proof has a bad signature");
      }
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException | JOSEException e) {
      return Mono.error(new InvalidCredentialsException("malformed agent proof"));
    } catch (InvalidCredentialsException e) {
      return Mono.error(e);
    }
    Instant now = Instant.now();
    if (!agentId.toString().equals(claims.getSubject())) {
      return Mono.error(new InvalidCredentialsException("agent proof is for another agent"));
    }
    if (claims.getAudience() == null || !claims.getAudience().contains(AUDIENCE)) {
      return Mono.error(new InvalidCredentialsException("agent proof has the wrong audience"));
    }
    if (claims.getExpirationTime() == null || claims.getIssueTime() == null) {
      return Mono.error(new InvalidCredentialsException("agent proof without iat or exp"));
    }
    Instant issued = claims.getIssueTime().toInstant();
    Instant expires = claims.getExpirationTime().toInstant();
    if (Duration.between(issued, expires).compareTo(MAX_LIFETIME) > 0) {
      return Mono.error(
          new InvalidCredentialsException("agent proof valid too long (expected: at most 120 s)"));
    }
    if (expires.plus(CLOCK_SKEW).isBefore(now) || issued.minus(CLOCK_SKEW).isAfter(now)) {
      return Mono.error(new InvalidCredentialsException("agent proof expired"));
    }
    if (claims.getJWTID() == null || claims.getJWTID().length() > 64) {
      return Mono.error(new InvalidCredentialsException("agent proof without a usable jti"));
    }
    return sweepExpired(now)
        .then(
            db.sql("INSERT INTO agent_proofs (jti, expires_at) VALUES (:jti, :expires)")
                .bind("jti", agentId + ":" + claims.getJWTID())
                .bind("expires", Rows.column(expires.plus(CLOCK_SKEW)))
                .then())
        .onErrorMap(
            DataIntegrityViolationException.class,
            e -> new InvalidCredentialsException("agent proof replayed"));
  }

  // Expired jtis can go once they can no longer be replayed; deleting them at most once a minute
  // per replica keeps that off most connects (thousands of agents reconnect after a node restart).
  private Mono<Void> sweepExpired(Instant now) {
    long last = lastSweep.get();
    if (now.toEpochMilli() - last < SWEEP_INTERVAL.toMillis()
        || !lastSweep.compareAndSet(last, now.toEpochMilli())) {
      return Mono.empty();
    }
    return db.sql("DELETE FROM agent_proofs WHERE expires_at < :now")
        .bind("now", Rows.column(now.minus(CLOCK_SKEW)))
        .then();
  }
}
