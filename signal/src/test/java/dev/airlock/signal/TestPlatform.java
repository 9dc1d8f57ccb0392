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
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stand-in for the platform's signal-node API on a real reactor-netty HTTP server on a random
 * port: it publishes a JWKS of a locally generated EC P-256 key, mints tokens with it, admits any
 * agent whose proof is its id (and refuses the proof {@code "revoked"}), redeems each connect token
 * once, and records what the node reported.
 */
public final class TestPlatform implements AutoCloseable {

  public static final String NODE = "node-a";

  private static final JsonMapper JSON = JsonMapper.builder().build();

  public final ECKey key = generate();
  public final AtomicInteger jwksFetches = new AtomicInteger();
  public final List<JsonNode> sessionEnds = new CopyOnWriteArrayList<>();
  public final List<String> disconnects = new CopyOnWriteArrayList<>();
  public final AtomicInteger registrations = new AtomicInteger();
  private final Set<String> redeemed = ConcurrentHashMap.newKeySet();
  private final DisposableServer server;

  public TestPlatform() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(
                routes ->
                    routes
                        .get(
                            "/api/v1/auth/jwks",
                            (request, response) -> {
                              jwksFetches.incrementAndGet();
                              return json(response, 200, new JWKSet(key.toPublicJWK()).toString());
                            })
                        .put(
                            "/api/v1/signal-nodes/{node}",
                            (request, response) -> {
                              registrations.incrementAndGet();
                              return json(
                                  response,
                                  200,
                                  "{\"id\":\""
                                      + request.param("node")
                                      + "\",\"url\":\"ws://x\",\"online\":true,"
                                      + "\"lastSeenAt\":\"2026-01-01T00:00:00Z\"}");
                            })
                        .post(
                            "/api/v1/signal-nodes/{node}/agent-connections",
                            (request, response) ->
                                body(request.receive().aggregate().asString())
                                    .flatMap(
                                        body -> {
                                          String proof = body.get("proof").asString();
                                          if (proof.equals("revoked")) {
                                            return problem(response, 403, "agent-revoked");
                                          }
                                          return json(response, 200, agent(proof));
                                        }))
                        .post(
                            "/api/v1/signal-nodes/{node}/enrolments",
                            (request, response) ->
                                body(request.receive().aggregate().asString())
                                    .flatMap(
                                        body ->
                                            body.get("joinToken").asString().equals("alj_good")
                                                ? json(
                                                    response,
                                                    201,
                                                    agent(UUID.randomUUID().toString()))
                                                : problem(response, 401, "invalid-join-token")))
                        .delete(
                            "/api/v1/signal-nodes/{node}/agent-connections/{agent}",
                            (request, response) -> {
                              disconnects.add(request.param("agent"));
                              return response.status(204).send();
                            })
                        .post(
                            "/api/v1/signal-nodes/{node}/session-starts",
                            (request, response) ->
                                body(request.receive().aggregate().asString())
                                    .flatMap(
                                        body ->
                                            redeemed.add(body.get("tokenId").asString())
                                                ? json(
                                                    response,
                                                    200,
                                                    session(body.get("sessionId").asString()))
                                                : problem(response, 409, "token-replayed")))
                        .post(
                            "/api/v1/signal-nodes/{node}/session-ends",
                            (request, response) ->
                                body(request.receive().aggregate().asString())
                                    .flatMap(
                                        body -> {
                                          sessionEnds.add(body);
                                          return json(
                                              response,
                                              200,
                                              session(body.get("sessionId").asString()));
                                        })))
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

  /** An admin token for {@link #NODE}, tweaked by {@code change}. */
  public String adminToken(Consumer<JWTClaimsSet.Builder> change) {
    JWTClaimsSet.Builder claims =
        new JWTClaimsSet.Builder()
            .issuer("airlock")
            .audience("airlock-signal-admin")
            .expirationTime(Date.from(Instant.now().plusSeconds(30)))
            .claim("nod", NODE);
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

  private static String agent(String id) {
    return "{\"id\":\""
        + id
        + "\",\"name\":\"desk-1\",\"kind\":\"desktop\",\"labels\":{},"
        + "\"dtlsFingerprint\":\"sha-256 "
        + "3A:9C:0E:11:48:7D:55:2B:90:AA:01:6F:C3:7E:24:B8:19:DD:60:4F:8A:35:E2:0C:71:9B:BE:43:06:FD:58:C1\","
        + "\"online\":true,\"enrolledAt\":\"2026-01-01T00:00:00Z\",\"revoked\":false}";
  }

  private static String session(String id) {
    return "{\"id\":\""
        + id
        + "\",\"userId\":\""
        + UUID.randomUUID()
        + "\",\"username\":\"alice\",\"agentId\":\""
        + UUID.randomUUID()
        + "\",\"mode\":\"control\",\"transport\":\"auto\",\"state\":\"active\","
        + "\"createdAt\":\"2026-01-01T00:00:00Z\"}";
  }

  private static Mono<JsonNode> body(Mono<String> text) {
    return text.map(JSON::readTree);
  }

  private static Mono<Void> json(HttpServerResponse response, int status, String body) {
    return response
        .status(status)
        .header("Content-Type", "application/json")
        .sendString(Mono.just(body), StandardCharsets.UTF_8)
        .then();
  }

  private static Mono<Void> problem(HttpServerResponse response, int status, String type) {
    return response
        .status(status)
        .header("Content-Type", "application/problem+json")
        .sendString(
            Mono.just(
                "{\"type\":\"urn:airlock:problem:"
                    + type
                    + "\",\"title\":\""
                    + type
                    + "\",\"status\":"
                    + status
                    + ",\"detail\":\"refused: "
                    + type
                    + "\"}"),
            StandardCharsets.UTF_8)
        .then();
  }

  @Override
  public void close() {
    server.disposeNow();
  }
}
