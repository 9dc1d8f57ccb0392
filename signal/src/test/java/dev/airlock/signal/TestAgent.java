package dev.airlock.signal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.protocol.message.Enrolment;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A synthetic agent's identity, made as the real agent makes its own: an EC P-256 key pair whose
 * public JWK it enrols with, a DTLS fingerprint, and identity proofs (ES256 JWTs) it signs for each
 * reconnect. The agent id is the platform's, learnt from {@code welcome}.
 */
final class TestAgent {

  private static final SecureRandom RANDOM = new SecureRandom();

  final String hostname;
  final ECKey key;
  final String dtlsFingerprint;
  volatile UUID id;

  TestAgent() {
    this.hostname = "desk-" + HexFormat.of().formatHex(randomBytes(5));
    this.key = generate();
    this.dtlsFingerprint =
        "sha-256 "
            + IntStream.range(0, 32)
                .mapToObj(i -> HexFormat.of().withUpperCase().toHexDigits((byte) RANDOM.nextInt()))
                .collect(Collectors.joining(":"));
  }

  /** What {@code hello.enrol} carries, with {@code joinToken}. */
  Enrolment enrolment(String joinToken) {
    return new Enrolment()
        .joinToken(joinToken)
        .publicKey(key.toPublicJWK().toJSONString())
        .dtlsFingerprint(dtlsFingerprint)
        .hostname(hostname)
        .version("0.0.0-test");
  }

  /** A fresh identity proof: ES256, sub the agent id, audience airlock-signal, valid 60 s. */
  String proof() {
    return proof(key);
  }

  /** A proof for this agent's id signed with {@code signingKey} (a wrong one, in a test). */
  String proof(ECKey signingKey) {
    if (id == null) {
      throw new IllegalStateException("agent " + hostname + " has not enrolled yet");
    }
    Instant now = Instant.now();
    JWTClaimsSet claims =
        new JWTClaimsSet.Builder()
            .subject(id.toString())
            .audience(List.of("airlock-signal"))
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plusSeconds(60)))
            .jwtID(UUID.randomUUID().toString())
            .build();
    try {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256).build(), claims);
      jwt.sign(new ECDSASigner(signingKey));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static ECKey generate() {
    try {
      return new ECKeyGenerator(Curve.P_256).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    RANDOM.nextBytes(bytes);
    return bytes;
  }
}
