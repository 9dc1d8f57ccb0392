package dev.airlock.signal.socket;

import dev.airlock.protocol.RelayFrame;
import dev.airlock.signal.api.SignalApi;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.server.support.HandshakeWebSocketService;
import org.springframework.web.reactive.socket.server.upgrade.ReactorNettyRequestUpgradeStrategy;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.WebsocketServerSpec;

/**
 * The two WebSocket endpoints of {@code openapi/signal.yaml}, served through the generated {@link
 * SignalApi} so that the spec and the routes cannot drift apart. Rather than a separate
 * SimpleUrlHandlerMapping (a route outside the generated interface), each operation performs the
 * WebSocket handshake itself; a plain GET without {@code Upgrade: websocket} gets 426.
 *
 * <p>Frames up to {@link RelayFrame#MAX_FRAME} bytes are accepted by reactor-netty, which closes
 * with 1009 above that; text frames are held to 64 KiB by {@link PeerSocket}.
 */
@RestController
public class SocketEndpoints implements SignalApi {

  private final HandshakeWebSocketService handshakes =
      new HandshakeWebSocketService(
          new ReactorNettyRequestUpgradeStrategy(
              () -> WebsocketServerSpec.builder().maxFramePayloadLength(RelayFrame.MAX_FRAME)));
  private final WebSocketHandler agents;
  private final WebSocketHandler clients;

  public SocketEndpoints(
      @Qualifier("agentSocketHandler") WebSocketHandler agents,
      @Qualifier("clientSocketHandler") WebSocketHandler clients) {
    this.agents = agents;
    this.clients = clients;
    handshakes.start();
  }

  @Override
  public Mono<ResponseEntity<Void>> agentSocket(ServerWebExchange exchange) {
    return upgrade(exchange, agents);
  }

  @Override
  public Mono<ResponseEntity<Void>> clientSocket(ServerWebExchange exchange) {
    return upgrade(exchange, clients);
  }

  private Mono<ResponseEntity<Void>> upgrade(ServerWebExchange exchange, WebSocketHandler handler) {
    String upgrade = exchange.getRequest().getHeaders().getUpgrade();
    if (upgrade == null || !upgrade.equalsIgnoreCase("websocket")) {
      return Mono.just(
          ResponseEntity.status(HttpStatus.UPGRADE_REQUIRED)
              .header(HttpHeaders.UPGRADE, "websocket")
              .header(HttpHeaders.CONNECTION, "Upgrade")
              .build());
    }
    // The handshake writes the 101 response itself; there is no entity to render afterwards.
    return handshakes.handleRequest(exchange, handler).then(Mono.empty());
  }
}
