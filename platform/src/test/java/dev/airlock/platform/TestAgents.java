package dev.airlock.platform;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Plays a signal node and its agents against the running platform, through the same API calls a
 * real node makes (as the administrator, whose rules cover {@code signal_node}): registers the
 * node, enrols agents with join tokens and fresh identity keys, and connects them with proofs.
 */
public final class TestAgents {

  private final WebTestClient http;
  private final String adminToken;

  public TestAgents(WebTestClient http, String adminToken) {
    this.http = http;
    this.adminToken = adminToken;
  }

  /** An enrolled agent: its id, its name and its identity key. */
  public record Enrolled(String id, String name, ECKey key, Map<String, Object> agent) {}

  /** Registers (or renews) signal node {@code nodeId}, so the agents it holds are online. */
  public void registerNode(String nodeId) {
    http.put()
        .uri("/api/v1/signal-nodes/{node}", nodeId)
        .headers(h -> h.setBearerAuth(adminToken))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("url", "ws://127.0.0.1:9", "adminUrl", "http://127.0.0.1:9"))
        .exchange()
        .expectStatus()
        .isOk();
  }

  /** A single-use join token for an agent of {@code kind} with {@code labels}. */
  @SuppressWarnings("unchecked")
  public String joinToken(String kind, Map<String, String> labels) {
    Map<String, Object> created =
        http.post()
            .uri("/api/v1/agents/join-tokens")
            .headers(h -> h.setBearerAuth(adminToken))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("kind", kind, "labels", labels))
            .exchange()
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    return (String) created.get("token");
  }

  /** The enrolment request of an agent called {@code hostname}, declaring {@code targets}. */
  public static Map<String, Object> enrolment(
      String joinToken, ECKey key, String hostname, List<Map<String, String>> targets) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("joinToken", joinToken);
    body.put("publicKey", key.toPublicJWK().toJSONString());
    body.put("dtlsFingerprint", fingerprint());
    body.put("hostname", hostname);
    if (targets != null) {
      body.put("targets", targets);
    }
    return body;
  }

  /** Enrols an agent of {@code kind} at {@code nodeId}; it is online there afterwards. */
  @SuppressWarnings("unchecked")
  public Enrolled enrol(
      String nodeId,
      String kind,
      Map<String, String> labels,
      String hostname,
      List<Map<String, String>> targets)
      throws Exception {
    ECKey key = new ECKeyGenerator(Curve.P_256).generate();
    Map<String, Object> agent =
        http.post()
            .uri("/api/v1/signal-nodes/{node}/enrolments", nodeId)
            .headers(h -> h.setBearerAuth(adminToken))
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(enrolment(joinToken(kind, labels), key, hostname, targets))
            .exchange()
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    return new Enrolled((String) agent.get("id"), (String) agent.get("name"), key, agent);
  }

  /** Connects the agent to {@code nodeId} with a fresh proof, declaring {@code targets}. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> connect(
      String nodeId, Enrolled agent, List<Map<String, String>> targets) throws Exception {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("proof", proof(agent));
    if (targets != null) {
      body.put("targets", targets);
    }
    return http.post()
        .uri("/api/v1/signal-nodes/{node}/agent-connections", nodeId)
        .headers(h -> h.setBearerAuth(adminToken))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody();
  }

  /** A proof of the agent's identity, as its agent signs one for every connect. */
  public static String proof(Enrolled agent) throws Exception {
    Instant now = Instant.now();
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256).type(JOSEObjectType.JWT).build(),
            new JWTClaimsSet.Builder()
                .subject(agent.id())
                .audience("airlock-signal")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(60)))
                .jwtID(UUID.randomUUID().toString())
                .build());
    jwt.sign(new ECDSASigner(agent.key()));
    return jwt.serialize();
  }

  /** A declared target. */
  public static Map<String, String> target(String name, String kind) {
    return Map.of("name", name, "kind", kind);
  }

  // Any well-formed fingerprint will do: nothing in the platform checks DTLS itself.
  private static String fingerprint() {
    byte[] bytes = new byte[32];
    ThreadLocalRandom.current().nextBytes(bytes);
    return "sha-256 " + HexFormat.ofDelimiter(":").withUpperCase().formatHex(bytes);
  }
}
