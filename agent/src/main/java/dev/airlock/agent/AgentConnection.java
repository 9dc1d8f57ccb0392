package dev.airlock.agent;

import dev.airlock.agent.cluster.LeafCluster;
import dev.airlock.agent.display.Display;
import dev.airlock.agent.tunnel.StreamTargets;
import dev.airlock.agent.tunnel.TcpTargets;
import dev.airlock.agent.tunnel.TunnelLink;
import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.Enrolment;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.AirlockClient;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.Http11SslContextSpec;
import reactor.netty.http.client.HttpClient;

/**
 * The agent's link to its signal node: connects, says hello (enrolment the first time, a signed
 * proof afterwards), keeps the heartbeat, runs the sessions the node opens, and reconnects with
 * {@link ReconnectBackoff} after any close, except the permanent ones, which end the program
 * through {@code exit}: {@link AirlockAgent#EXIT_JOIN_TOKEN_REFUSED} for a refused join token,
 * {@link AirlockAgent#EXIT_REVOKED} for a revoked agent.
 */
final class AgentConnection {

  private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);

  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  static final Duration WELCOME_TIMEOUT = Duration.ofSeconds(10);

  private final AgentConfig config;
  private final AgentState state;
  private final String version;
  private final IntConsumer exit;
  private final ChannelServices services;
  private final ReconnectBackoff backoff = new ReconnectBackoff(RandomGenerator.getDefault());
  private final HttpClient http;
  private final Map<UUID, AgentSession> sessions = new ConcurrentHashMap<>();
  private volatile SignalSocket socket;
  private volatile TunnelLink tunnel;
  private final StreamTargets streamTargets;
  private volatile boolean stopping;

  AgentConnection(AgentConfig config, AgentState state, String version, IntConsumer exit) {
    this.config = config;
    this.state = state;
    this.version = version;
    this.exit = exit;
    this.services =
        new ChannelServices(
            state,
            config.hostname(),
            config.display() == null
                ? null
                : new Display(config.display(), config.fps(), config.resize()),
            config.clipboard());
    if (config.display() == null && config.targets().isEmpty() && !config.clusterLink()) {
      log.warn(
          "No display ({} and DISPLAY unset): sessions get no screen, input or clipboard",
          AgentConfig.environmentName("display"));
    }
    this.streamTargets =
        config.clusterLink() ? leafCluster(config) : new TcpTargets(config.targets());
    HttpClient client =
        HttpClient.create()
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis());
    if (config.caFile() != null) {
      // Trust exactly these CAs for wss:// (a private CA or a self-signed node), not the JVM's.
      client =
          client.secure(
              tls ->
                  tls.sslContext(
                      Http11SslContextSpec.forClient()
                          .configure(builder -> builder.trustManager(config.caFile().toFile()))));
    }
    this.http = client;
  }

  /** Starts connecting; returns at once. */
  void start() {
    attempt();
  }

  /** Ends every session and closes the socket with 1000; completes when it is closed. */
  Mono<Void> stop() {
    stopping = true;
    endAllSessions("agent stopping");
    SignalSocket current = socket;
    // The socket first: an edge node's signalling rides on its tunnel connection.
    return (current == null
            ? Mono.<Void>empty()
            : current.close(CloseCodes.NORMAL, "agent stopping").then())
        .then(closeTunnel());
  }

  private Mono<Void> closeTunnel() {
    TunnelLink link = tunnel;
    tunnel = null;
    return link == null ? Mono.empty() : link.close().onErrorResume(error -> Mono.empty());
  }

  private void attempt() {
    if (stopping) {
      return;
    }
    boolean enrolling = state.agentId().isEmpty();
    (keepsTunnel() ? throughTunnel() : SignalSocket.connect(http, config.agentEndpoint()))
        .timeout(HANDSHAKE_TIMEOUT)
        .subscribe(
            opened -> run(opened, enrolling),
            error -> {
              closeTunnel().subscribe();
              Throwable cause = error.getCause() != null ? error.getCause() : error;
              boolean refused =
                  error instanceof ConnectException || cause instanceof ConnectException;
              log.warn(
                  "Cannot reach the signal node at {}: {}",
                  config.agentEndpoint(),
                  error.getMessage() == null ? error.toString() : error.getMessage());
              retry(refused);
            });
  }

  /** Whether this agent is an edge node or a cluster link, which keeps a tunnel to its node. */
  private boolean keepsTunnel() {
    return !config.targets().isEmpty() || config.clusterLink();
  }

  /**
   * An edge node keeps one connection to its node: it asks the node where its tunnel endpoint is
   * (the health endpoint's {@code tunnelUrl}), connects there and signals on a stream of that
   * connection. A node without a tunnel endpoint gets the WebSocket (and a warning once welcomed).
   */
  private Mono<SignalSocket> throughTunnel() {
    URI health = config.healthEndpoint();
    // Connection: close, so that the tunnel connection is the only one this agent keeps.
    return http.keepAlive(false)
        .get()
        .uri(health)
        .responseSingle(
            (response, body) ->
                response.status().code() == 200
                    ? body.asString()
                    : Mono.error(
                        new IllegalStateException(
                            "the signal node answered " + response.status() + " at " + health)))
        .map(SignalCodec::decodeHealth)
        .flatMap(answer -> Mono.justOrEmpty(answer.getTunnelUrl()))
        // Reading the CA file (or the JVM's trust store) blocks: not on an event loop.
        .flatMap(
            url ->
                Mono.fromCallable(
                        () -> new TunnelLink(URI.create(url), streamTargets, config.caFile()))
                    .subscribeOn(Schedulers.boundedElastic())
                    .flatMap(
                        link -> {
                          tunnel = link;
                          return link.signalling();
                        })
                    // Say which endpoint: the tunnel's is another port, maybe another address.
                    .onErrorMap(
                        error ->
                            new IOException(
                                "its tunnel endpoint "
                                    + url
                                    + ": "
                                    + (error.getMessage() == null
                                        ? error.toString()
                                        : error.getMessage()),
                                error)))
        .switchIfEmpty(Mono.defer(() -> SignalSocket.connect(http, config.agentEndpoint())));
  }

  private void run(SignalSocket opened, boolean enrolling) {
    socket = opened;
    if (stopping) {
      opened.close(CloseCodes.NORMAL, "agent stopping").subscribe();
      return;
    }
    Disposable.Composite running = Disposables.composite();
    boolean[] welcomed = {false};
    running.add(
        opened
            .relayFrames()
            .subscribe(
                frame -> {
                  AgentSession session = sessions.get(frame.sessionId());
                  if (session != null) {
                    session.onRelayFrame(frame);
                  }
                }));
    running.add(
        opened
            .messages()
            .subscribe(
                message -> {
                  if (message.getType() == MessageType.WELCOME && !welcomed[0]) {
                    welcomed[0] = true;
                    running.add(welcomed(opened, message, enrolling));
                  } else {
                    onMessage(opened, message);
                  }
                }));
    running.add(
        Mono.delay(WELCOME_TIMEOUT)
            .subscribe(
                tick -> {
                  if (!welcomed[0]) {
                    log.warn("No welcome within {} s; reconnecting", WELCOME_TIMEOUT.toSeconds());
                    opened.close(CloseCodes.NORMAL, "no welcome").subscribe();
                  }
                }));
    opened
        .closed()
        .subscribe(
            closed -> {
              running.dispose();
              endAllSessions("signal connection closed");
              // Streams are authorised on this socket; without it the tunnel goes too (and with
              // an edge node's, it is the tunnel connection that went).
              closeTunnel().subscribe();
              onClosed(closed, enrolling, welcomed[0]);
            });
    opened.send(hello(enrolling));
  }

  private SignalMessage hello(boolean enrolling) {
    SignalMessage hello = new SignalMessage().type(MessageType.HELLO).protocol(SignalCodec.VERSION);
    if (!config.targets().isEmpty()) {
      hello.targets(config.targets().wire());
    }
    if (enrolling) {
      return hello.enrol(
          new Enrolment()
              .joinToken(config.joinToken())
              .publicKey(state.publicKeyJson())
              .dtlsFingerprint(state.dtls().fingerprint())
              .hostname(config.hostname())
              .version(version));
    }
    return hello.proof(
        IdentityProof.create(state.identity(), state.agentId().orElseThrow(), Instant.now()));
  }

  private Disposable welcomed(SignalSocket opened, SignalMessage welcome, boolean enrolling) {
    backoff.reset();
    UUID id = welcome.getAgentId() != null ? welcome.getAgentId() : state.agentId().orElse(null);
    if (enrolling) {
      if (id == null) {
        log.error("The node welcomed the enrolment without an agent id; reconnecting");
        opened.close(CloseCodes.PROTOCOL_ERROR, "welcome without agentId").subscribe();
        return Disposables.disposed();
      }
      state.saveAgentId(id);
      System.out.println("Enrolled as agent " + id);
    }
    log.info("Agent {} online at node {}", id, welcome.getNodeId());
    int seconds =
        welcome.getHeartbeatSeconds() == null || welcome.getHeartbeatSeconds() < 1
            ? 15
            : welcome.getHeartbeatSeconds();
    TunnelLink link = tunnel;
    if (link != null && welcome.getTunnelUrl() != null) {
      log.info("Tunnel up at {}, serving {}", link.url(), streamTargets);
    } else if (keepsTunnel()) {
      log.warn(
          "This agent serves {} but the signal node offers no tunnel (is the agent enrolled"
              + " as a node or a cluster, and are tunnels on at the node?)",
          streamTargets);
    }
    return Flux.interval(Duration.ofSeconds(seconds))
        .subscribe(
            tick -> {
              opened.send(new SignalMessage().type(MessageType.HEARTBEAT));
              if (link != null) {
                // A connection that died without a word (a pulled cable) would hold the signalling
                // stream until TCP gives up; a ping that goes unanswered ends it now.
                link.open()
                    .subscribe(
                        ok -> {},
                        error -> {
                          log.warn(
                              "The tunnel to {} does not answer: {}; reconnecting",
                              link.url(),
                              error.toString());
                          opened.close(CloseCodes.NORMAL, "tunnel unreachable").subscribe();
                        });
              }
            });
  }

  private void onMessage(SignalSocket opened, SignalMessage message) {
    UUID sessionId = message.getSessionId();
    switch (message.getType()) {
      case SESSION_OPEN -> {
        if (sessionId == null) {
          log.warn("Ignoring a session.open without a sessionId");
          return;
        }
        sessions.computeIfAbsent(
            sessionId,
            key -> new AgentSession(message, opened, state.dtls(), services, sessions::remove));
      }
      case SDP, ICE, RELAY -> {
        AgentSession session = sessionId == null ? null : sessions.get(sessionId);
        if (session == null) {
          log.debug("Ignoring {} for unknown session {}", message.getType(), sessionId);
          return;
        }
        session.onMessage(message);
      }
      case TUNNEL_OPEN -> {
        TunnelLink link = tunnel;
        if (sessionId == null) {
          log.warn("Ignoring a tunnel.open without a sessionId");
        } else if (link == null) {
          refuseStream(opened, sessionId, "this agent keeps no tunnel");
        } else {
          link.openStream(message, (id, reason) -> refuseStream(opened, id, reason));
        }
      }
      case SESSION_CLOSE -> {
        TunnelLink link = tunnel;
        if (link != null && sessionId != null) {
          link.closeStream(sessionId);
        }
        AgentSession session = sessionId == null ? null : sessions.remove(sessionId);
        if (session != null) {
          session.end(message.getReason() == null ? "closed" : message.getReason());
        }
      }
      case ERROR -> log.warn("The signal node says: {}", message.getReason());
      default -> log.debug("Ignoring {}", message.getType());
    }
  }

  /** A cluster link's side of the leaf: its platform, with the link user's API key. */
  private static LeafCluster leafCluster(AgentConfig config) {
    String key;
    try {
      key = Files.readString(config.leafApiKeyFile()).strip();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "leaf-api-key-file " + config.leafApiKeyFile() + ": " + e.getMessage(), e);
    }
    log.info("Cluster link: routed streams go to the leaf cluster at {}", config.leafUrl());
    return new LeafCluster(
        AirlockClient.builder().baseUrl(config.leafUrl().toString()).build().withApiKey(key),
        config.leafUrl());
  }

  private static void refuseStream(SignalSocket opened, UUID sessionId, String reason) {
    opened.send(
        new SignalMessage().type(MessageType.SESSION_CLOSE).sessionId(sessionId).reason(reason));
  }

  private void onClosed(SignalSocket.Closed closed, boolean enrolling, boolean welcomed) {
    if (stopping) {
      return;
    }
    int code = closed.code();
    if (code == CloseCodes.AGENT_REVOKED) {
      log.error(
          "Agent {} revoked: enrol this machine again with a new join token" + " (remove {} first)",
          state.agentId().map(UUID::toString).orElse("?"),
          state.directory().resolve(AgentState.AGENT_ID_FILE));
      exit.accept(AirlockAgent.EXIT_REVOKED);
      return;
    }
    if (code == CloseCodes.UNAUTHENTICATED && enrolling) {
      log.error(
          "Join token refused ({}): create a new join token and start the agent with it",
          closed.reason());
      exit.accept(AirlockAgent.EXIT_JOIN_TOKEN_REFUSED);
      return;
    }
    log.warn("Signal connection closed: {}; reconnecting", closed);
    retry(code == CloseCodes.GOING_AWAY);
  }

  private void retry(boolean nodeRestarting) {
    if (stopping) {
      return;
    }
    Duration delay = backoff.next(nodeRestarting);
    log.info("Reconnecting in {} ms", delay.toMillis());
    Schedulers.parallel().schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void endAllSessions(String reason) {
    sessions.values().forEach(session -> session.end(reason));
    sessions.clear();
  }
}
