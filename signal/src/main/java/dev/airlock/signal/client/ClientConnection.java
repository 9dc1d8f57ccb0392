package dev.airlock.signal.client;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.model.SignalRefusal;
import dev.airlock.signal.ThisNode;
import dev.airlock.signal.agent.AgentConnection;
import dev.airlock.signal.agent.AgentRegistry;
import dev.airlock.signal.platform.PlatformLink;
import dev.airlock.signal.platform.PlatformProblems;
import dev.airlock.signal.session.LiveSession;
import dev.airlock.signal.session.RelayHeader;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.CloseException;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.socket.SocketListener;
import dev.airlock.signal.token.ConnectToken;
import dev.airlock.signal.token.ConnectTokenVerifier;
import dev.airlock.signal.token.TokenRejectedException;
import dev.airlock.signal.tunnel.TunnelProperties;
import dev.airlock.signal.tunnel.TunnelStream;
import dev.airlock.signal.tunnel.TunnelTickets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.web.reactive.socket.CloseStatus;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * One client's socket: waits for {@code hello}, verifies its connect token offline, redeems it at
 * the platform, pairs the client with the agent (if it is here), then relays the client's
 * signalling and, after {@code relay}, its relay frames.
 */
final class ClientConnection implements SocketListener {

  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

  private enum State {
    AWAITING_HELLO,
    STARTING,
    LIVE
  }

  private final PeerSocket socket;
  private final ThisNode node;
  private final ConnectTokenVerifier verifier;
  private final PlatformLink platform;
  private final AgentRegistry agents;
  private final SessionRegistry sessions;
  private final TunnelTickets tickets;
  private final TunnelProperties tunnels;
  private volatile State state = State.AWAITING_HELLO;
  private volatile LiveSession session;
  private volatile TunnelStream tunnel;

  ClientConnection(
      PeerSocket socket,
      ThisNode node,
      ConnectTokenVerifier verifier,
      PlatformLink platform,
      AgentRegistry agents,
      SessionRegistry sessions,
      TunnelTickets tickets,
      TunnelProperties tunnels) {
    this.socket = socket;
    this.node = node;
    this.verifier = verifier;
    this.platform = platform;
    this.agents = agents;
    this.sessions = sessions;
    this.tickets = tickets;
    this.tunnels = tunnels;
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
    return socket.run(this).doFinally(signal -> helloTimer.dispose());
  }

  @Override
  public Mono<Void> onText(String text) {
    SignalMessage message = SignalCodec.decode(text);
    if (state == State.AWAITING_HELLO) {
      if (message.getType() != MessageType.HELLO) {
        throw new ProtocolException(
            message.getType().getValue() + " before hello (expected: hello first)");
      }
      state = State.STARTING;
      return start(message);
    }
    LiveSession live = session;
    if (live != null && live.token().tunnel()) {
      return switch (message.getType()) {
        case SESSION_CLOSE -> {
          sessions.end(live, "closed by the client", true, CloseCodes.NORMAL, "session closed");
          yield Mono.empty();
        }
        case HEARTBEAT -> Mono.empty();
        default ->
            throw new ProtocolException(
                "a tunnel client may not send "
                    + message.getType().getValue()
                    + " (expected: binary frames, heartbeat or session.close)");
      };
    }
    return switch (message.getType()) {
      case SDP, ICE -> toAgent(live, message);
      case RELAY -> relay(live);
      case SESSION_CLOSE -> {
        live.peerToPeerBytes(message.getBytesSent(), message.getBytesReceived());
        sessions.end(live, "closed by the client", true, CloseCodes.NORMAL, "session closed");
        yield Mono.empty();
      }
      case HEARTBEAT -> Mono.empty();
      default ->
          throw new ProtocolException(
              "a client may not send "
                  + message.getType().getValue()
                  + " (expected: sdp, ice, relay or session.close)");
    };
  }

  private Mono<Void> start(SignalMessage hello) {
    SignalCodec.requireVersion(hello);
    return verifier
        .verify(hello.getConnectToken())
        .onErrorMap(this::tokenRefusal)
        .flatMap(
            token ->
                platform
                    .startSession(token.sessionId(), token.tokenId())
                    .onErrorMap(ClientConnection::startRefusal)
                    .thenReturn(token))
        .doOnNext(this::pair)
        .then();
  }

  private Throwable tokenRefusal(Throwable error) {
    if (error instanceof TokenRejectedException) {
      platform.reportRefusal(
          SignalRefusal.CredentialEnum.CONNECT_TOKEN, error.getMessage(), socket.remote(), null);
      return new CloseException(CloseCodes.UNAUTHENTICATED, error.getMessage());
    }
    log.warn("Cannot verify a connect token: {}", PlatformProblems.detail(error));
    return new CloseException(1011, "cannot fetch the platform's keys; try again later");
  }

  private static Throwable startRefusal(Throwable error) {
    int status = PlatformProblems.status(error);
    if (PlatformProblems.TOKEN_REPLAYED.equals(PlatformProblems.type(error)) || status == 409) {
      return new CloseException(CloseCodes.TOKEN_REPLAYED, "connect token already used");
    }
    if (status >= 400 && status < 500) {
      return new CloseException(
          CloseCodes.UNAUTHENTICATED, "session refused: " + PlatformProblems.detail(error));
    }
    log.warn("Cannot start a session: {}", PlatformProblems.detail(error));
    return new CloseException(1011, "platform unreachable; try again later");
  }

  private void pair(ConnectToken token) {
    AgentConnection agent = agents.get(token.agentId());
    if (agent == null || !agent.socket().isOpen()) {
      sessions.reportUnpaired(token.sessionId(), "agent not connected to this node");
      throw new CloseException(CloseCodes.AGENT_NOT_HERE, "agent not connected to this node");
    }
    if (token.tunnel()) {
      openTunnel(token, agent);
      return;
    }
    LiveSession live = sessions.open(token, agent.socket(), socket, node.maxSessionsPerAgent());
    if (live == null) {
      String reason =
          "agent already has " + node.maxSessionsPerAgent() + " sessions (the most allowed)";
      sessions.reportUnpaired(token.sessionId(), reason);
      throw new CloseException(CloseCodes.TOO_MANY_SESSIONS, reason);
    }
    session = live;
    state = State.LIVE;
    SignalMessage.TransportEnum transport =
        SignalMessage.TransportEnum.fromValue(token.transport());
    agent
        .socket()
        .send(
            new SignalMessage()
                .type(MessageType.SESSION_OPEN)
                .sessionId(live.id())
                .mode(SignalMessage.ModeEnum.fromValue(token.mode()))
                .transport(transport)
                .iceServers(token.iceServers())
                .username(token.username())
                .clipboard(SignalMessage.ClipboardEnum.fromValue(token.clipboard()))
                .idleSeconds(token.idleSeconds())
                .consentSeconds(token.consentSeconds()));
    socket.send(
        new SignalMessage()
            .type(MessageType.WELCOME)
            .protocol(SignalCodec.VERSION)
            .nodeId(node.id())
            .sessionId(live.id())
            .transport(transport));
    log.info(
        "Session {} started: user {} to agent {}, mode {}, transport {}, from {}",
        live.id(),
        token.username(),
        token.agentId(),
        token.mode(),
        token.transport(),
        socket.remote());
    if (!agent.socket().isOpen()) {
      // The agent left while we paired; its sweep may have missed this session.
      sessions.end(live, "agent disconnected", false, CloseCodes.NORMAL, "agent disconnected");
    }
  }

  /**
   * Asks the edge node's agent for a stream to the token's target; the client gets {@code welcome}
   * when the stream is there, or 4502 when it does not come.
   */
  private void openTunnel(ConnectToken token, AgentConnection agent) {
    if (!agent.tunnelCapable() || !tunnels.enabled()) {
      String reason =
          tunnels.enabled()
              ? "agent " + token.agentId() + " is not an edge node"
              : "tunnels are off at this signal node";
      sessions.reportUnpaired(token.sessionId(), "target unreachable: " + reason);
      throw new CloseException(CloseCodes.TARGET_UNREACHABLE, reason);
    }
    LiveSession live = sessions.open(token, agent.socket(), socket, tunnels.maxStreamsPerNode());
    if (live == null) {
      String reason =
          "node already has " + tunnels.maxStreamsPerNode() + " tunnel streams (the most allowed)";
      sessions.reportUnpaired(token.sessionId(), reason);
      throw new CloseException(CloseCodes.TOO_MANY_SESSIONS, reason);
    }
    session = live;
    live.startRelay();
    TunnelStream stream = new TunnelStream(live, sessions, () -> tunnelAttached(live));
    tunnel = stream;
    String ticket =
        tickets.issue(
            stream,
            tunnels.streamOpenTimeout(),
            expired ->
                sessions.end(
                    live,
                    "target unreachable: the node opened no stream within "
                        + tunnels.streamOpenTimeout().toSeconds()
                        + " s",
                    true,
                    CloseCodes.TARGET_UNREACHABLE,
                    "the node did not open the stream in time"));
    SignalMessage open =
        new SignalMessage()
            .type(MessageType.TUNNEL_OPEN)
            .sessionId(live.id())
            .target(token.tunnelTarget())
            .ticket(ticket);
    ConnectToken.Route route = token.route();
    if (route != null) {
      // A trusted cluster's link: the leaf decides, so it learns who asks for what.
      open.node(route.node())
          .login(route.login())
          .cluster(route.cluster())
          .roles(route.roles())
          .username(token.username());
    }
    agent.socket().send(open);
    log.info(
        "Tunnel {} requested: user {} to {} on node {}, from {}",
        live.id(),
        token.username(),
        token.tunnelTarget(),
        token.agentId(),
        socket.remote());
    if (!agent.socket().isOpen()) {
      sessions.end(live, "agent disconnected", false, CloseCodes.NORMAL, "agent disconnected");
    }
  }

  private void tunnelAttached(LiveSession live) {
    state = State.LIVE;
    socket.unlimitBinaryFrames();
    socket.send(
        new SignalMessage()
            .type(MessageType.WELCOME)
            .protocol(SignalCodec.VERSION)
            .nodeId(node.id())
            .sessionId(live.id()));
    log.info("Tunnel {} open to {}", live.id(), live.token().tunnelTarget());
  }

  private Mono<Void> toAgent(LiveSession live, SignalMessage message) {
    if (live.relayOnly()) {
      socket.send(
          new SignalMessage()
              .type(MessageType.ERROR)
              .sessionId(live.id())
              .reason("this session is relay-only"));
      return Mono.empty();
    }
    // A client speaks for its own session only, whatever it wrote.
    message.setSessionId(live.id());
    if (message.getType() == MessageType.SDP) {
      live.sdpExchanged();
    }
    live.agent().send(message);
    return Mono.empty();
  }

  private Mono<Void> relay(LiveSession live) {
    if (!live.relaying()) {
      live.startRelay();
      live.agent().send(new SignalMessage().type(MessageType.RELAY).sessionId(live.id()));
    }
    return Mono.empty();
  }

  @Override
  public Mono<Void> onBinary(DataBuffer frame) {
    TunnelStream stream = tunnel;
    if (stream != null) {
      if (state != State.LIVE) {
        DataBufferUtils.release(frame);
        throw new ProtocolException("binary frame before welcome (expected: wait for welcome)");
      }
      return stream.fromClient(frame);
    }
    LiveSession live = session;
    RelayHeader header;
    try {
      if (state != State.LIVE || !live.relaying()) {
        throw new ProtocolException("relay frame before relay (expected: send relay first)");
      }
      header = RelayHeader.of(frame);
      if (!live.id().equals(header.sessionId())) {
        throw new ProtocolException(
            "relay frame for session "
                + header.sessionId()
                + " (expected: this socket's session "
                + live.id()
                + ")");
      }
    } catch (RuntimeException e) {
      DataBufferUtils.release(frame);
      throw e;
    }
    live.countFromClient(header.payloadBytes());
    return live.agent().forward(frame);
  }

  @Override
  public void onClosed(CloseStatus status) {
    LiveSession live = session;
    if (live != null) {
      sessions.end(live, "client disconnected", true, 0, null);
    }
  }
}
