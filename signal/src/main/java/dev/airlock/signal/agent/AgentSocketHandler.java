package dev.airlock.signal.agent;

import dev.airlock.protocol.SignalCodec;
import dev.airlock.signal.ThisNode;
import dev.airlock.signal.platform.NodeRegistration;
import dev.airlock.signal.platform.PlatformLink;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.LiveSockets;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.tunnel.TunnelServer;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;

/** Serves {@code /signal/v1/agent}: one {@link AgentConnection} per socket. */
@Component("agentSocketHandler")
public class AgentSocketHandler implements WebSocketHandler {

  private final ThisNode node;
  private final PlatformLink platform;
  private final NodeRegistration registration;
  private final AgentRegistry agents;
  private final SessionRegistry sessions;
  private final LiveSockets sockets;
  private final TunnelServer tunnel;

  public AgentSocketHandler(
      ThisNode node,
      PlatformLink platform,
      NodeRegistration registration,
      AgentRegistry agents,
      SessionRegistry sessions,
      LiveSockets sockets,
      TunnelServer tunnel) {
    this.node = node;
    this.platform = platform;
    this.registration = registration;
    this.agents = agents;
    this.sessions = sessions;
    this.sockets = sockets;
    this.tunnel = tunnel;
  }

  @Override
  public List<String> getSubProtocols() {
    return List.of(SignalCodec.SUBPROTOCOL);
  }

  @Override
  public Mono<Void> handle(WebSocketSession session) {
    PeerSocket socket = new PeerSocket(session, PeerSocket.Kind.AGENT);
    sockets.add(socket);
    return new AgentConnection(socket, node, platform, registration, agents, sessions, tunnel)
        .run();
  }

  /**
   * Disconnects a revoked agent (close 4403) and ends its sessions; nothing when it is not here.
   */
  public void revoke(UUID agentId) {
    AgentConnection connection = agents.get(agentId);
    if (connection != null) {
      connection.revoke();
    }
  }
}
