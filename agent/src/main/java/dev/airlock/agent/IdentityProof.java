package dev.airlock.agent;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;

/**
 * The proof an enrolled agent sends in {@code hello}: a JWT (ES256) signed with its identity key,
 * subject its id, audience {@value #AUDIENCE}, valid {@link #VALIDITY}, with a fresh {@code jti} so
 * that each proof works once.
 */
final class IdentityProof {

  static final String AUDIENCE = "airlock-signal";
  static final Duration VALIDITY = Duration.ofSeconds(60);

  private IdentityProof() {}

  static String create(ECKey identity, UUID agentId, Instant now) {
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(agentId.toString())
            .audience(List.of(AUDIENCE))
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plus(VALIDITY)))
            .jwtID(UUID.randomUUID().toString())
            .build();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .type(JOSEObjectType.JWT)
                .keyID(identity.getKeyID())
                .build(),
            claims);
    try {
      jwt.sign(new ECDSASigner(identity));
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign the identity proof: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }
}
