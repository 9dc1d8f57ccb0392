package dev.airlock.signal.admin;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.message.SignalHealth;
import dev.airlock.sdk.model.SignalRefusal;
import dev.airlock.signal.ThisNode;
import dev.airlock.signal.agent.AgentRegistry;
import dev.airlock.signal.agent.AgentSocketHandler;
import dev.airlock.signal.api.SignalAdminApi;
import dev.airlock.signal.platform.PlatformLink;
import dev.airlock.signal.platform.PlatformProblems;
import dev.airlock.signal.session.LiveSession;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.LiveSockets;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.token.AdminTokenVerifier;
import dev.airlock.signal.token.TokenRejectedException;
import dev.airlock.signal.tunnel.TunnelServer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The admin API of {@code openapi/signal.yaml}. The two DELETEs need a bearer JWT the platform
 * signed for this node (see {@link AdminTokenVerifier}) and answer 204 whether or not the agent or
 * session was here; anything else gets a 401 problem document.
 */
@RestController
public class AdminEndpoints implements SignalAdminApi {

  private static final Logger log = LoggerFactory.getLogger(AdminEndpoints.class);

  private final ThisNode node;
  private final AdminTokenVerifier verifier;
  private final AgentSocketHandler agentSockets;
  private final AgentRegistry agents;
  private final SessionRegistry sessions;
  private final LiveSockets sockets;
  private final PlatformLink platform;
  private final TunnelServer tunnel;

  public AdminEndpoints(
      ThisNode node,
      AdminTokenVerifier verifier,
      AgentSocketHandler agentSockets,
      AgentRegistry agents,
      SessionRegistry sessions,
      LiveSockets sockets,
      PlatformLink platform,
      TunnelServer tunnel) {
    this.platform = platform;
    this.tunnel = tunnel;
    this.node = node;
    this.verifier = verifier;
    this.agentSockets = agentSockets;
    this.agents = agents;
    this.sessions = sessions;
    this.sockets = sockets;
  }

  @Override
  public Mono<ResponseEntity<Void>> kickAgent(UUID agentId, ServerWebExchange exchange) {
    return authorised(exchange)
        .then(
            Mono.fromRunnable(
                () -> {
                  log.info("Platform revoked agent {}", agentId);
                  agentSockets.revoke(agentId);
                }))
        .thenReturn(ResponseEntity.noContent().build());
  }

  @Override
  public Mono<ResponseEntity<Void>> cutSession(UUID sessionId, ServerWebExchange exchange) {
    return authorised(exchange)
        .then(
            Mono.fromRunnable(
                () -> {
                  LiveSession session = sessions.get(sessionId);
                  if (session != null) {
                    sessions.end(
                        session,
                        "session terminated",
                        true,
                        CloseCodes.SESSION_TERMINATED,
                        "session terminated");
                  }
                }))
        .thenReturn(ResponseEntity.noContent().build());
  }

  @Override
  public Mono<ResponseEntity<SignalHealth>> signalHealth(ServerWebExchange exchange) {
    return Mono.just(
        ResponseEntity.ok(
            new SignalHealth()
                .status("UP")
                .nodeId(node.id())
                .agents(agents.size())
                .clients(sockets.count(PeerSocket.Kind.CLIENT))
                .tunnelUrl(tunnel.publicUrl())));
  }

  private Mono<Void> authorised(ServerWebExchange exchange) {
    return verifier
        .verify(exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION))
        .doOnError(
            TokenRejectedException.class,
            e ->
                platform.reportRefusal(
                    SignalRefusal.CredentialEnum.ADMIN_TOKEN,
                    e.getMessage(),
                    String.valueOf(exchange.getRequest().getRemoteAddress()),
                    null));
  }

  @ExceptionHandler(TokenRejectedException.class)
  ResponseEntity<Map<String, Object>> unauthenticated(TokenRejectedException e) {
    return problem(HttpStatus.UNAUTHORIZED, "urn:airlock:problem:unauthenticated", e.getMessage());
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<Map<String, Object>> unavailable(Exception e) {
    // Only the platform's keys being out of reach gets here: the token cannot be checked now.
    log.warn("Cannot check an admin token: {}", PlatformProblems.detail(e));
    return problem(
        HttpStatus.SERVICE_UNAVAILABLE,
        "urn:airlock:problem:unavailable",
        "cannot fetch the platform's signing keys to check the token; try again");
  }

  private static ResponseEntity<Map<String, Object>> problem(
      HttpStatus status, String type, String detail) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("type", type);
    body.put("title", status.getReasonPhrase());
    body.put("status", status.value());
    body.put("detail", detail);
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(body);
  }
}
