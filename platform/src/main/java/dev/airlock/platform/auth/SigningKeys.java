package dev.airlock.platform.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.platform.database.Rows;
import java.text.ParseException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The EC P-256 keys that sign Airlock's tokens (ES256), kept in the database so every replica signs
 * and verifies alike. The first start creates one; the newest unretired key signs; every unretired
 * key verifies and is published in the JWKS. Keys are re-read from the database every minute, and
 * at once when a token names a key id this replica has not seen.
 */
@Component
public class SigningKeys {

  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);

  private final DatabaseClient db;
  private volatile Mono<List<ECKey>> keys;

  public SigningKeys(DatabaseClient db) {
    this.db = db;
    this.keys = load();
  }

  /** The key that signs new tokens. */
  public Mono<ECKey> current() {
    return keys.map(list -> list.get(0));
  }

  /**
   * Signs {@code claims} with the current key: an ES256 JWT whose header names the key ({@code
   * kid}) and its type ({@code JWT}), so that anyone with the JWKS can verify it offline.
   */
  public Mono<String> sign(JWTClaimsSet claims) {
    return current()
        .map(
            key -> {
              SignedJWT jwt =
                  new SignedJWT(
                      new JWSHeader.Builder(JWSAlgorithm.ES256)
                          .keyID(key.getKeyID())
                          .type(JOSEObjectType.JWT)
                          .build(),
                      claims);
              try {
                ECDSASigner signer = new ECDSASigner(key);
                signer.getJCAContext().setSecureRandom(Secrets.random());
                jwt.sign(signer);
              } catch (JOSEException e) {
                throw new IllegalStateException(
                    "Cannot sign a token with key " + key.getKeyID(), e);
              }
              return jwt.serialize();
            });
  }

  /** The public key with id {@code kid}, if it verifies tokens. */
  public Mono<Optional<ECKey>> verifier(String kid) {
    return keys.flatMap(
        list -> {
          Optional<ECKey> found = find(list, kid);
          if (found.isPresent()) {
            return Mono.just(found);
          }
          keys = load();
          return keys.map(reloaded -> find(reloaded, kid));
        });
  }

  /** The public half of every key that verifies tokens. */
  public Mono<JWKSet> publicKeys() {
    return keys.map(list -> new JWKSet(list.stream().map(k -> (JWK) k.toPublicJWK()).toList()));
  }

  private static Optional<ECKey> find(List<ECKey> list, String kid) {
    return list.stream().filter(k -> k.getKeyID().equals(kid)).findFirst();
  }

  private Mono<List<ECKey>> load() {
    return read()
        .flatMap(list -> list.isEmpty() ? create().then(read()) : Mono.just(list))
        .cache(list -> Duration.ofMinutes(1), e -> Duration.ZERO, () -> Duration.ZERO);
  }

  private Mono<List<ECKey>> read() {
    return db.sql(
            "SELECT private_jwk FROM signing_keys WHERE retired_at IS NULL"
                + " ORDER BY created_at DESC, kid")
        .map(row -> parse(row.get(0, String.class)))
        .all()
        .collectList();
  }

  private Mono<Void> create() {
    ECKey key;
    try {
      key =
          new ECKeyGenerator(Curve.P_256)
              .keyUse(KeyUse.SIGNATURE)
              .algorithm(JWSAlgorithm.ES256)
              .keyIDFromThumbprint(true)
              .secureRandom(Secrets.random())
              .generate();
    } catch (JOSEException e) {
      return Mono.error(new IllegalStateException("Cannot generate a signing key", e));
    }
    log.info("Created token signing key {}", key.getKeyID());
    return db.sql(
            "INSERT IGNORE INTO signing_keys (kid, private_jwk, created_at)"
                + " VALUES (:kid, :jwk, :now)")
        .bind("kid", key.getKeyID())
        .bind("jwk", key.toJSONString())
        .bind("now", Rows.column(Rows.now()))
        .then();
  }

  private static ECKey parse(String json) {
    try {
      return ECKey.parse(json);
    } catch (ParseException e) {
      throw new IllegalStateException("A signing key in the database is not a valid EC JWK", e);
    }
  }
}
