package dev.airlock.signal.platform;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64URL;
import dev.airlock.protocol.message.Enrolment;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.api.SignalNodesApi;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentConnection;
import dev.airlock.sdk.model.AgentEnrolment;
import dev.airlock.sdk.model.Jwk;
import dev.airlock.sdk.model.JwkSet;
import dev.airlock.sdk.model.Session;
import dev.airlock.sdk.model.SessionEnd;
import dev.airlock.sdk.model.SessionEvent;
import dev.airlock.sdk.model.SessionStart;
import dev.airlock.sdk.model.SignalNode;
import dev.airlock.sdk.model.SignalNodeRegistration;
import dev.airlock.sdk.model.SignalRefusal;
import dev.airlock.sdk.model.TunnelTarget;
import dev.airlock.signal.SignalProperties;
import dev.airlock.signal.ThisNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * The calls this node makes to the platform, authenticated with the node's API key (role {@code
 * signal-node}). Every call times out after {@link #TIMEOUT}; failures are the SDK's {@code
 * AirlockProblemException} (the platform answered) or a transport error / {@code TimeoutException}
 * (it did not, see {@link PlatformProblems#unreachable(Throwable)}).
 */
@Component
public class PlatformLink {

  private static final Logger log = LoggerFactory.getLogger(PlatformLink.class);

  /** The longest any platform call may take. */
  public static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final ThisNode node;
  private final String platformUrl;
  private final AirlockClient anonymous;
  private final SignalNodesApi calls;

  /** How many departure reports are in flight at once. */
  static final int DEPARTURE_CONCURRENCY = 16;

  private final Sinks.Many<UUID> departures = Sinks.many().unicast().onBackpressureBuffer();

  @Autowired
  public PlatformLink(SignalProperties properties, ThisNode node) {
    this(properties.platformUrl(), platformKey(properties), node);
  }

  /** A link to {@code platformUrl} with {@code apiKey}; tests build it directly. */
  public PlatformLink(String platformUrl, String apiKey, ThisNode node) {
    this.node = node;
    this.platformUrl = platformUrl;
    this.anonymous = AirlockClient.builder().baseUrl(platformUrl).responseTimeout(TIMEOUT).build();
    this.calls = anonymous.withApiKey(apiKey).signalNodes();
    sendDepartures();
  }

  /** The platform's base URL (for log lines). */
  public String platformUrl() {
    return platformUrl;
  }

  /** Registers this node (or renews its registration) with its public and admin URLs. */
  public Mono<SignalNode> register() {
    return calls
        .registerSignalNode(
            node.id(), new SignalNodeRegistration().url(node.publicUrl()).adminUrl(node.adminUrl()))
        .timeout(TIMEOUT);
  }

  /** Enrols an agent that presented a join token in its {@code hello}; spends one use of it. */
  public Mono<Agent> enrol(
      Enrolment enrolment, List<dev.airlock.protocol.message.TunnelTarget> targets) {
    return calls
        .enrolAgent(
            node.id(),
            new AgentEnrolment()
                .joinToken(enrolment.getJoinToken())
                .publicKey(enrolment.getPublicKey())
                .dtlsFingerprint(enrolment.getDtlsFingerprint())
                .hostname(enrolment.getHostname())
                .version(enrolment.getVersion())
                .targets(targets(targets)))
        .timeout(TIMEOUT);
  }

  /**
   * Admits an agent that proved its identity, marking it online at this node; an edge node's
   * declared {@code targets} replace those recorded.
   */
  public Mono<Agent> connectAgent(
      String proof, List<dev.airlock.protocol.message.TunnelTarget> targets) {
    return calls
        .connectAgent(node.id(), new AgentConnection().proof(proof).targets(targets(targets)))
        .timeout(TIMEOUT);
  }

  private static List<TunnelTarget> targets(
      List<dev.airlock.protocol.message.TunnelTarget> declared) {
    if (declared == null) {
      return null;
    }
    return declared.stream()
        .map(
            target ->
                new TunnelTarget()
                    .name(target.getName())
                    .kind(
                        target.getKind() == null
                            ? null
                            : TunnelTarget.KindEnum.fromValue(target.getKind().getValue()))
                    .description(target.getDescription()))
        .toList();
  }

  /** Records that an agent left this node. */
  public Mono<Void> disconnectAgent(UUID agentId) {
    return calls.disconnectAgent(node.id(), agentId).timeout(TIMEOUT);
  }

  /**
   * Tells the platform, in the background, that an agent left. When thousands leave at once (a
   * network blip, a node restart) the reports are sent at most {@link #DEPARTURE_CONCURRENCY} at a
   * time, retried while the platform is unreachable, so none is dropped by an overflowing
   * connection pool.
   */
  public synchronized void reportDeparture(UUID agentId) {
    // Serialised: agents leave on every event loop, and a unicast sink takes one emitter at a time.
    if (departures.tryEmitNext(agentId).isFailure()) {
      log.warn("Cannot queue the departure of agent {}", agentId);
    }
  }

  private void sendDepartures() {
    departures
        .asFlux()
        .flatMap(
            agentId ->
                Mono.defer(() -> disconnectAgent(agentId))
                    .retryWhen(
                        Retry.backoff(4, Duration.ofSeconds(1))
                            .maxBackoff(Duration.ofSeconds(10))
                            .jitter(0.5)
                            .filter(PlatformProblems::unreachable))
                    .onErrorResume(
                        error -> {
                          log.warn(
                              "Could not tell the platform that agent {} left: {}",
                              agentId,
                              PlatformProblems.detail(error));
                          return Mono.empty();
                        }),
            DEPARTURE_CONCURRENCY)
        .subscribe();
  }

  /** Redeems a verified connect token; fails with 409 {@code token-replayed} the second time. */
  public Mono<Session> startSession(UUID sessionId, String tokenId) {
    return calls
        .startSession(node.id(), new SessionStart().sessionId(sessionId).tokenId(tokenId))
        .timeout(TIMEOUT);
  }

  /**
   * Records a session's end; retried with backoff (about 30 s in all) while the platform is
   * unreachable, never when it answered.
   */
  public Mono<Session> endSession(SessionEnd end) {
    return Mono.defer(() -> calls.endSession(node.id(), end).timeout(TIMEOUT))
        .retryWhen(
            Retry.backoff(4, Duration.ofSeconds(1))
                .maxBackoff(Duration.ofSeconds(10))
                .jitter(0.5)
                .filter(PlatformProblems::unreachable));
  }

  /**
   * Forwards an agent's session event (a clipboard transfer's size, a consent decision, an idle
   * disconnect) for the audit log, retried briefly while the platform is unreachable; failures are
   * logged, never fatal to the session.
   */
  public void reportSessionEvent(SessionEvent event) {
    Mono.defer(() -> calls.reportSessionEvent(node.id(), event).timeout(TIMEOUT))
        .retryWhen(
            Retry.backoff(3, Duration.ofMillis(500))
                .jitter(0.5)
                .filter(PlatformProblems::unreachable))
        .subscribe(
            done -> {},
            e ->
                log.warn(
                    "Cannot record {} of session {}: {}",
                    event.getEvent(),
                    event.getSessionId(),
                    PlatformProblems.detail(e)));
  }

  /**
   * Reports a credential this node refused on its own (forged, expired, wrong audience or node), so
   * that the platform audits it. Fire and forget: failures are logged, never retried, and never
   * delay the close.
   */
  public void reportRefusal(
      SignalRefusal.CredentialEnum credential, String reason, String source, UUID sessionId) {
    SignalRefusal refusal = new SignalRefusal().credential(credential).reason(reason);
    if (source != null) {
      refusal.sourceAddress(source.length() > 64 ? source.substring(0, 64) : source);
    }
    if (sessionId != null) {
      refusal.sessionId(sessionId);
    }
    calls
        .reportRefusal(node.id(), refusal)
        .timeout(TIMEOUT)
        .subscribe(
            done -> {},
            e ->
                log.warn("Cannot report a refused {}: {}", credential, PlatformProblems.detail(e)));
  }

  /** The platform's token signing keys (its public JWKS; sent without credentials). */
  public Mono<JWKSet> signingKeys() {
    return Mono.defer(() -> anonymous.auth().getJwks())
        .timeout(TIMEOUT)
        .map(PlatformLink::toJwkSet);
  }

  private static JWKSet toJwkSet(JwkSet set) {
    List<JWK> keys = new ArrayList<>();
    if (set.getKeys() != null) {
      for (Jwk key : set.getKeys()) {
        // Only EC P-256 keys can verify ES256; anything else is skipped, not fatal.
        if ("EC".equals(key.getKty())
            && "P-256".equals(key.getCrv())
            && key.getKid() != null
            && key.getX() != null
            && key.getY() != null) {
          keys.add(
              new ECKey.Builder(Curve.P_256, new Base64URL(key.getX()), new Base64URL(key.getY()))
                  .keyID(key.getKid())
                  .build());
        }
      }
    }
    return new JWKSet(keys);
  }

  private static String platformKey(SignalProperties properties) {
    String key = properties.platformKey().strip();
    if (key.isEmpty() && properties.platformKeyFile() != null) {
      try {
        key = Files.readString(properties.platformKeyFile()).strip();
      } catch (IOException e) {
        throw new UncheckedIOException(
            "airlock.signal.platform-key-file: cannot read " + properties.platformKeyFile(), e);
      }
    }
    if (key.isEmpty()) {
      throw new IllegalStateException(
          "airlock.signal.platform-key (or platform-key-file): missing"
              + " (expected: an API key alk_… of a user with role signal-node)");
    }
    return key;
  }
}
