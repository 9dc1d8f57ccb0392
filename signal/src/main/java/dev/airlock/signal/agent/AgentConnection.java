package dev.airlock.signal.agent;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.SessionEvent;
import dev.airlock.signal.ThisNode;
import dev.airlock.signal.platform.NodeRegistration;
import dev.airlock.signal.platform.PlatformLink;
import dev.airlock.signal.platform.PlatformProblems;
import dev.airlock.signal.session.LiveSession;
import dev.airlock.signal.session.RelayHeader;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.CloseException;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.socket.SocketListener;
import dev.airlock.signal.tunnel.TunnelServer;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.web.reactive.socket.CloseStatus;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One agent's socket: waits for {@code hello}, has the platform admit the agent (enrolment with a
 * join token, or a signed identity proof), answers {@code welcome}, then relays its answers and
 * candidates to its sessions' clients and watches its heartbeat. When it goes, the platform is told
 * and its sessions end.
 */
public final class AgentConnection implements SocketListener {

  private static final Logger log = LoggerFactory.getLogger(AgentConnection.class);

  private enum State {
    AWAITING_HELLO,
    ADMITTING,
    LIVE,
    REPLACED
  }

  private final PeerSocket socket;
  private final ThisNode node;
  private final PlatformLink platform;
  private final NodeRegistration registration;
  private final AgentRegistry agents;
  private final SessionRegistry sessions;
  private final TunnelServer tunnel;
  private volatile State state = State.AWAITING_HELLO;
  private volatile Agent agent;
  private volatile long lastHeard = System.nanoTime();
  private volatile long connectedAt;

  AgentConnection(
      PeerSocket socket,
      ThisNode node,
      PlatformLink platform,
      NodeRegistration registration,
      AgentRegistry agents,
      SessionRegistry sessions,
      TunnelServer tunnel) {
    this.socket = socket;
    this.node = node;
    this.platform = platform;
    this.registration = registration;
    this.agents = agents;
    this.sessions = sessions;
    this.tunnel = tunnel;
  }

  /** The agent's id (known once admitted). */
  public UUID agentId() {
    return agent.getId();
  }

  /**
   * Whether this is an edge node or a trusted cluster's link, which keeps a tunnel here (and one is
   * listening).
   */
  public boolean tunnelCapable() {
    Agent admitted = agent;
    return admitted != null
        && (admitted.getKind() == AgentKind.NODE || admitted.getKind() == AgentKind.CLUSTER)
        && tunnel.publicUrl() != null;
  }

  /** The agent's socket. */
  public PeerSocket socket() {
    return socket;
  }

  Mono<Void> run() {
    Disposable helloTimer =
        Mono.delay(node.helloTimeout())
            .subscribe(
                tick -> {
                  if (state == State.AWAITING_HELLO) {
                    socket.close(
                        CloseCodes.HELLO_TIMEOUT,
                        "no hello within " + node.helloTimeout().toSeconds() + " s");
                  }
                });
    Duration limit = node.agentSilenceLimit();
    Duration period =
        limit.dividedBy(6).compareTo(Duration.ofSeconds(5)) < 0
            ? limit.dividedBy(6)
            : Duration.ofSeconds(5);
    Disposable watchdog =
        Flux.interval(period)
            .subscribe(
                tick -> {
                  if (state == State.LIVE && System.nanoTime() - lastHeard > limit.toNanos()) {
                    socket.close(
                        CloseCodes.PROTOCOL_ERROR, "no heartbeat for " + limit.toSeconds() + " s");
                  }
                });
    return socket
        .run(this)
        .doFinally(
            signal -> {
              helloTimer.dispose();
              watchdog.dispose();
            });
  }

  /** Closes the socket because the platform revoked the agent, ending its sessions. */
  void revoke() {
    sessions.endAllOf(socket, "agent revoked", false, "agent revoked");
    socket.close(CloseCodes.AGENT_REVOKED, "agent revoked");
  }

  @Override
  public Mono<Void> onText(String text) {
    lastHeard = System.nanoTime();
    SignalMessage message = SignalCodec.decode(text);
    if (state == State.AWAITING_HELLO) {
      if (message.getType() != MessageType.HELLO) {
        throw new ProtocolException(
            message.getType().getValue() + " before hello (expected: hello first)");
      }
      state = State.ADMITTING;
      return admit(message);
    }
    return switch (message.getType()) {
      case HEARTBEAT -> Mono.empty();
      case SDP, ICE -> toClient(message);
      case SESSION_CLOSE -> closeSession(message);
      case SESSION_EVENT -> sessionEvent(message);
      default ->
          throw new ProtocolException(
              "an agent may not send "
                  + message.getType().getValue()
                  + " (expected: heartbeat, sdp, ice, session.close or session.event)");
    };
  }

  private Mono<Void> admit(SignalMessage hello) {
    SignalCodec.requireVersion(hello);
    Mono<Agent> admission;
    if (hello.getEnrol() != null && hello.getProof() == null) {
      admission = platform.enrol(hello.getEnrol(), hello.getTargets());
    } else if (hello.getProof() != null && hello.getEnrol() == null) {
      admission = platform.connectAgent(hello.getProof(), hello.getTargets());
    } else {
      throw new ProtocolException(
          "agent hello with "
              + (hello.getEnrol() == null ? "neither" : "both")
              + " enrol and proof (expected: enrol on first run, proof afterwards)");
    }
    return admission.onErrorMap(this::refusal).doOnNext(this::welcome).then();
  }

  private void welcome(Agent admitted) {
    agent = admitted;
    connectedAt = System.nanoTime();
    lastHeard = connectedAt;
    state = State.LIVE;
    AgentConnection previous = agents.put(this);
    if (previous != null && previous != this) {
      previous.replaced();
    }
    socket.send(
        new SignalMessage()
            .type(MessageType.WELCOME)
            .protocol(SignalCodec.VERSION)
            .agentId(admitted.getId())
            .nodeId(node.id())
            .heartbeatSeconds((int) node.heartbeat().toSeconds())
            .tunnelUrl(tunnelCapable() ? tunnel.publicUrl() : null));
    log.info(
        "Agent {} ({}) connected from {}", admitted.getId(), admitted.getName(), socket.remote());
  }

  private void replaced() {
    state = State.REPLACED;
    sessions.endAllOf(socket, "agent reconnected", false, "agent disconnected");
    socket.close(CloseCodes.NORMAL, "replaced by a newer connection");
  }

  private Throwable refusal(Throwable error) {
    String type = PlatformProblems.type(error);
    int status = PlatformProblems.status(error);
    String detail = PlatformProblems.detail(error);
    if (PlatformProblems.AGENT_REVOKED.equals(type)) {
      return new CloseException(CloseCodes.AGENT_REVOKED, "agent revoked");
    }
    if (PlatformProblems.INVALID_JOIN_TOKEN.equals(type)) {
      return new CloseException(CloseCodes.UNAUTHENTICATED, "join token refused: " + detail);
    }
    if (status == 401 || status == 403) {
      // The agent must not give up for good when it is this node's own key that is refused.
      if (registration.credentialsRefused() || status == 403) {
        return new CloseException(
            1011, "this node is not authorised by the platform; try again later");
      }
      return new CloseException(CloseCodes.UNAUTHENTICATED, "identity proof refused: " + detail);
    }
    if (status >= 400 && status < 500) {
      return new CloseException(CloseCodes.PROTOCOL_ERROR, "hello refused: " + detail);
    }
    log.warn("Cannot admit an agent from {}: {}", socket.remote(), detail);
    return new CloseException(1011, "platform unreachable; try again later");
  }

  private Mono<Void> toClient(SignalMessage message) {
    LiveSession session = ownSession(message.getSessionId(), message.getType());
    if (session == null) {
      return Mono.empty();
    }
    if (session.relayOnly()) {
      socket.send(error(session.id(), "this session is relay-only"));
      return Mono.empty();
    }
    if (message.getType() == MessageType.SDP) {
      session.sdpExchanged();
    }
    session.client().send(message);
    return Mono.empty();
  }

  private Mono<Void> closeSession(SignalMessage message) {
    LiveSession session = ownSession(message.getSessionId(), message.getType());
    if (session != null) {
      String reason = message.getReason() != null ? message.getReason() : "closed by the agent";
      if (session.token().tunnel()) {
        // An edge node closes a stream this way only when it cannot reach the target.
        sessions.end(
            session, "target unreachable: " + reason, false, CloseCodes.TARGET_UNREACHABLE, reason);
      } else {
        sessions.end(session, reason, false, CloseCodes.NORMAL, "session closed by the agent");
      }
    }
    return Mono.empty();
  }

  /** Forwards a session event of the agent's own session for the audit log; never fatal. */
  private Mono<Void> sessionEvent(SignalMessage message) {
    LiveSession session = ownSession(message.getSessionId(), message.getType());
    if (session == null) {
      return Mono.empty();
    }
    if (message.getEvent() == null) {
      socket.send(error(session.id(), "session.event without event"));
      return Mono.empty();
    }
    platform.reportSessionEvent(
        new SessionEvent()
            .sessionId(session.id())
            .agentId(agent.getId())
            .event(SessionEvent.EventEnum.fromValue(message.getEvent().getValue()))
            .bytes(message.getBytes()));
    return Mono.empty();
  }

  /** The agent's own live session {@code id}; null (and an error to the agent) otherwise. */
  private LiveSession ownSession(UUID id, MessageType type) {
    if (id == null) {
      socket.send(error(null, type.getValue() + " without sessionId"));
      return null;
    }
    LiveSession session = sessions.get(id);
    if (session == null || session.agent() != socket) {
      socket.send(error(id, "unknown session " + id));
      return null;
    }
    return session;
  }

  @Override
  public Mono<Void> onBinary(DataBuffer frame) {
    lastHeard = System.nanoTime();
    RelayHeader header;
    try {
      if (state != State.LIVE) {
        throw new ProtocolException("relay frame before welcome");
      }
      header = RelayHeader.of(frame);
    } catch (RuntimeException e) {
      DataBufferUtils.release(frame);
      throw e;
    }
    LiveSession session = sessions.get(header.sessionId());
    if (session == null || session.agent() != socket || !session.relaying()) {
      DataBufferUtils.release(frame);
      socket.send(
          error(header.sessionId(), "relay frame for a session not relaying here; dropped"));
      return Mono.empty();
    }
    session.countFromAgent(header.payloadBytes());
    // A slow client holds this agent's reads; that is not silence on the agent's part.
    return session.client().forward(frame).doFinally(signal -> lastHeard = System.nanoTime());
  }

  @Override
  public void onClosed(CloseStatus status) {
    if (agent == null) {
      return;
    }
    boolean current = agents.remove(this);
    sessions.endAllOfLost(socket);
    if (current) {
      platform.reportDeparture(agent.getId());
    }
    log.info(
        "Agent {} ({}) disconnected: {} {} after {} s",
        agent.getId(),
        agent.getName(),
        status == null ? "-" : status.getCode(),
        status == null || status.getReason() == null ? "" : status.getReason(),
        Duration.ofNanos(System.nanoTime() - connectedAt).toSeconds());
  }

  private static SignalMessage error(UUID sessionId, String reason) {
    return new SignalMessage().type(MessageType.ERROR).sessionId(sessionId).reason(reason);
  }
}
