package dev.airlock.signal;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The platform's public JWKS endpoint ({@code GET /api/v1/auth/jwks}) on a real reactor-netty HTTP
 * server on a random port, with a locally generated EC P-256 key that mints the tokens, for unit
 * tests of the node's token verification rules (expired, wrong audience, unknown key, …) that the
 * real platform never issues. Everything else is tested against the real platform (see {@link
 * SignalNodeTest}).
 */
public final class LocalJwks implements AutoCloseable {

  public static final String NODE = "node-a";

  public final ECKey key = generate();
  public final AtomicInteger jwksFetches = new AtomicInteger();
  private final DisposableServer server;

  public LocalJwks() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(
                routes ->
                    routes.get(
                        "/api/v1/auth/jwks",
                        (request, response) -> {
                          jwksFetches.incrementAndGet();
                          return response
                              .status(200)
                              .header("Content-Type", "application/json")
                              .sendString(
                                  Mono.just(new JWKSet(key.toPublicJWK()).toString()),
                                  StandardCharsets.UTF_8)
                              .then();
                        }))
            .bindNow();
  }

  public String url() {
    return "http://127.0.0.1:" + server.port();
  }

  /** A connect token for {@code agentId} at {@link #NODE}, tweaked by {@code change}. */
  public String connectToken(UUID sessionId, UUID agentId, Consumer<JWTClaimsSet.Builder> change) {
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .issuer("airlock")
            .audience("airlock-signal")
            .subject(UUID.randomUUID().toString())
            .jwtID(UUID.randomUUID().toString())
            .issueTime(new Date())
            .expirationTime(Date.from(Instant.now().plusSeconds(60)))
            .claim("sid", sessionId.toString())
            .claim("agt", agentId.toString())
            .claim("nod", NODE)
            .claim("mod", "control")
            .claim("trp", "auto")
            .claim("name", "alice")
            .claim("ice", List.of(Map.of("urls", List.of("stun:stun.example.com:3478"))));
    change.accept(claims);
    return sign(claims.build(), key);
  }

  public static String sign(JWTClaimsSet claims, ECKey key) {
    try {
      SignedJWT jwt =
          new SignedJWT(
              new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(key.getKeyID()).build(), claims);
      jwt.sign(new ECDSASigner(key));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ECKey generate() {
    try {
      return new ECKeyGenerator(Curve.P_256).keyIDFromThumbprint(true).generate();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.disposeNow();
  }
}
