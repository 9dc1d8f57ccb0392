package dev.airlock.signal.client;

import dev.airlock.protocol.SignalCodec;
import dev.airlock.signal.ThisNode;
import dev.airlock.signal.agent.AgentRegistry;
import dev.airlock.signal.platform.PlatformLink;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.LiveSockets;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.token.ConnectTokenVerifier;
import dev.airlock.signal.tunnel.TunnelProperties;
import dev.airlock.signal.tunnel.TunnelTickets;
import java.util.List;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Mono;

/** Serves {@code /signal/v1/client}: one {@link ClientConnection} per socket. */
@Component("clientSocketHandler")
public class ClientSocketHandler implements WebSocketHandler {

  private final ThisNode node;
  private final ConnectTokenVerifier verifier;
  private final PlatformLink platform;
  private final AgentRegistry agents;
  private final SessionRegistry sessions;
  private final LiveSockets sockets;
  private final TunnelTickets tickets;
  private final TunnelProperties tunnels;

  public ClientSocketHandler(
      ThisNode node,
      ConnectTokenVerifier verifier,
      PlatformLink platform,
      AgentRegistry agents,
      SessionRegistry sessions,
      LiveSockets sockets,
      TunnelTickets tickets,
      TunnelProperties tunnels) {
    this.node = node;
    this.verifier = verifier;
    this.platform = platform;
    this.agents = agents;
    this.sessions = sessions;
    this.sockets = sockets;
    this.tickets = tickets;
    this.tunnels = tunnels;
  }

  @Override
  public List<String> getSubProtocols() {
    return List.of(SignalCodec.SUBPROTOCOL);
  }

  @Override
  public Mono<Void> handle(WebSocketSession session) {
    PeerSocket socket = new PeerSocket(session, PeerSocket.Kind.CLIENT);
    sockets.add(socket);
    return new ClientConnection(
            socket, node, verifier, platform, agents, sessions, tickets, tunnels)
        .run();
  }
}
