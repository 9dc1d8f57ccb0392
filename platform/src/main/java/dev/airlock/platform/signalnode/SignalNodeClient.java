package dev.airlock.platform.signalnode;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.auth.SigningKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The platform's calls to a signal node's admin API: disconnect a revoked agent, cut a terminated
 * session. Each call carries a fresh admin token (ES256, audience {@code airlock-signal-admin},
 * bound to the node, valid 60 s). Calls are idempotent, so they are retried twice with jittered
 * backoff; each attempt times out after 2 s, so the whole call gives up within about 7 s.
 */
@Component
public class SignalNodeClient {

  /** The audience of admin tokens. */
  public static final String AUDIENCE = "airlock-signal-admin";

  private static final Logger log = LoggerFactory.getLogger(SignalNodeClient.class);

  private final SignalNodes nodes;
  private final SigningKeys keys;
  private final String issuer;
  private final WebClient http;

  public SignalNodeClient(SignalNodes nodes, SigningKeys keys, AirlockProperties properties) {
    this.nodes = nodes;
    this.keys = keys;
    this.issuer = properties.tokens().issuer();
    this.http = WebClient.builder().build();
  }

  /** Has {@code nodeId} disconnect agent {@code agentId} (close 4403) and end its sessions. */
  public Mono<Void> kickAgent(String nodeId, UUID agentId) {
    return delete(nodeId, "/signal/v1/admin/agents/" + agentId);
  }

  /** Has {@code nodeId} end live session {@code sessionId} (close 4410 to its client). */
  public Mono<Void> cutSession(String nodeId, UUID sessionId) {
    return delete(nodeId, "/signal/v1/admin/sessions/" + sessionId);
  }

  private Mono<Void> delete(String nodeId, String path) {
    return nodes
        .find(nodeId)
        .flatMap(
            node ->
                token(nodeId)
                    .flatMap(
                        token ->
                            http.delete()
                                .uri(node.adminUrl().replaceAll("/+$", "") + path)
                                .headers(h -> h.setBearerAuth(token))
                                .retrieve()
                                .toBodilessEntity()
                                .timeout(Duration.ofSeconds(2)))
                    .retryWhen(Retry.backoff(2, Duration.ofMillis(200)).jitter(0.5))
                    .then())
        .doOnError(e -> log.warn("Signal node {} did not take {}: {}", nodeId, path, e.toString()))
        .onErrorResume(e -> Mono.empty());
  }

  private Mono<String> token(String nodeId) {
    Instant now = Instant.now();
    return keys.sign(
        new JWTClaimsSet.Builder()
            .issuer(issuer)
            .audience(AUDIENCE)
            .subject("platform")
            .jwtID(UUID.randomUUID().toString())
            .issueTime(Date.from(now))
            .expirationTime(Date.from(now.plusSeconds(60)))
            .claim("nod", nodeId)
            .build());
  }
}
