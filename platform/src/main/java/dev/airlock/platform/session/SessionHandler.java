package dev.airlock.platform.session;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.agent.AgentRepository;
import dev.airlock.platform.agent.AgentRow;
import dev.airlock.platform.api.SessionsApi;
import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.ClipboardPolicy;
import dev.airlock.platform.api.model.FieldError;
import dev.airlock.platform.api.model.IceServer;
import dev.airlock.platform.api.model.Session;
import dev.airlock.platform.api.model.SessionCreate;
import dev.airlock.platform.api.model.SessionCreated;
import dev.airlock.platform.api.model.SessionMode;
import dev.airlock.platform.api.model.SessionPage;
import dev.airlock.platform.api.model.SessionState;
import dev.airlock.platform.api.model.SessionTransport;
import dev.airlock.platform.api.model.TunnelTarget;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.container.ContainerRepository;
import dev.airlock.platform.image.ImageRepository;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.signalnode.SignalNodeClient;
import dev.airlock.platform.signalnode.SignalNodes;
import dev.airlock.platform.web.Cursors;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Serves the session operations. Opening a session checks the caller's rules against the target
 * agent's labels ({@code connect} for control, {@code view} or {@code connect} for view; for a
 * tunnel, {@code connect}, a target the edge node declares, and for {@code ssh} an allowed login),
 * records and audits it, and hands out a connect token for the signal node that holds the agent.
 */
@RestController
public class SessionHandler implements SessionsApi {

  /** The tunnel target that is a node's SSH server, the only one that takes a login. */
  private static final String SSH = "ssh";

  /** The tunnel target of a trusted cluster that is its node list. */
  private static final String NODES = "nodes";

  private final AgentRepository agents;
  private final SessionRepository sessions;
  private final SignalNodeClient nodeClient;
  private final ConnectTokenIssuer tokens;
  private final IceServers ice;
  private final Access access;
  private final TransactionalOperator tx;
  private final AirlockProperties.Sessions settings;
  private final ContainerRepository containers;
  private final ImageRepository images;
  private final String clusterName;

  public SessionHandler(
      AgentRepository agents,
      SessionRepository sessions,
      SignalNodeClient nodeClient,
      ConnectTokenIssuer tokens,
      IceServers ice,
      Access access,
      TransactionalOperator tx,
      AirlockProperties properties,
      ContainerRepository containers,
      ImageRepository images) {
    this.containers = containers;
    this.images = images;
    this.agents = agents;
    this.sessions = sessions;
    this.nodeClient = nodeClient;
    this.tokens = tokens;
    this.ice = ice;
    this.access = access;
    this.tx = tx;
    this.settings = properties.sessions();
    this.clusterName = properties.trust().clusterName();
  }

  @Override
  public Mono<ResponseEntity<SessionCreated>> createSession(
      Mono<SessionCreate> body, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return body.flatMap(
        create ->
            checkTunnelFields(create)
                .then(agents.findByIdOrName(create.getTarget()))
                .filter(agent -> agent.revokedAt() == null)
                .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("agent", create.getTarget())))
                .flatMap(
                    agent ->
                        (agent.kind() == AgentKind.CONTAINER
                                ? containers
                                    .findByAgent(agent.id())
                                    .flatMap(
                                        c ->
                                            images
                                                .findById(c.imageId())
                                                .map(image -> image.getClipboard().getValue())
                                                // An image deleted since: nothing crosses.
                                                .defaultIfEmpty(ClipboardPolicy.NONE.getValue())
                                                .map(
                                                    clipboard ->
                                                        new Target(
                                                            caller.userId().equals(c.ownerId()),
                                                            clipboard)))
                                : Mono.<Target>empty())
                            // A desktop's own agent narrows this with its local setting.
                            .defaultIfEmpty(new Target(false, ClipboardPolicy.BOTH.getValue()))
                            .flatMap(target -> open(exchange, caller, create, agent, target))));
  }

  /** What the session's target decides: whether the caller owns it, its clipboard policy. */
  private record Target(boolean containerOwner, String clipboard) {}

  private Mono<ResponseEntity<SessionCreated>> open(
      ServerWebExchange exchange,
      Caller caller,
      SessionCreate create,
      AgentRow agent,
      Target target) {
    SessionMode mode = create.getMode() == null ? SessionMode.CONTROL : create.getMode();
    boolean tunnel = mode == SessionMode.TUNNEL;
    if (!tunnel && agent.kind() == AgentKind.CLUSTER) {
      return Mono.error(
          ApiProblem.validation(
              List.of(
                  new FieldError(
                      "mode",
                      mode.getValue()
                          + " to "
                          + agent.name()
                          + ", a trusted cluster (expected: mode tunnel with the leaf's node)"))));
    }
    return (tunnel
            ? authorizeTunnel(exchange, caller, create, agent)
            : authorizeRemote(exchange, caller, mode, agent, target.containerOwner()))
        .then(Mono.defer(() -> issue(exchange, caller, create, mode, agent, target)));
  }

  /**
   * Checks that a remote view or control session may be opened: the owner of a container controls
   * it without a rule; anyone else needs one.
   */
  private Mono<Void> authorizeRemote(
      ServerWebExchange exchange,
      Caller caller,
      SessionMode mode,
      AgentRow agent,
      boolean containerOwner) {
    boolean allowed =
        containerOwner
            || caller.grants().allows("agent", "connect", agent.labels())
            || (mode == SessionMode.VIEW
                && caller.grants().allows("agent", "view", agent.labels()));
    if (allowed) {
      return Mono.empty();
    }
    String verb = mode == SessionMode.VIEW ? "view (or connect)" : "connect";
    return access.forbid(
        exchange,
        "agent",
        verb,
        agent.id() + " (" + agent.name() + ")",
        "not allowed: agent:" + verb + " on " + agent.labels(),
        "Your roles do not allow " + verb + " on agent " + agent.name());
  }

  /**
   * Checks that a tunnel may be opened: {@code connect} on the node (a tunnel reaches the node's
   * own network, so watching is not enough and no owner passes without a rule), a target the node
   * declares, and for {@code ssh} a rule allowing the login. The connect check comes first so that
   * only callers who may use the node learn what it exposes.
   */
  private Mono<Void> authorizeTunnel(
      ServerWebExchange exchange, Caller caller, SessionCreate create, AgentRow agent) {
    String auditTarget = agent.id() + " (" + agent.name() + ")";
    if (!caller.grants().allows("agent", "connect", agent.labels())) {
      return access.forbid(
          exchange,
          "agent",
          "connect",
          auditTarget,
          "not allowed: agent:connect on " + agent.labels() + " (tunnel)",
          "Your roles do not allow connect on agent " + agent.name());
    }
    String name = create.getTunnelTarget();
    if (agent.kind() == AgentKind.CLUSTER) {
      // The leaf resolves the node and its targets, maps the caller's roles and decides.
      if (create.getNode() == null && !NODES.equals(name)) {
        return Mono.error(
            ApiProblem.validation(
                List.of(
                    new FieldError(
                        "node",
                        "missing (expected: the node in cluster "
                            + agent.name()
                            + " to reach, or tunnelTarget nodes for its node list)"))));
      }
      return Mono.empty();
    }
    if (create.getNode() != null || NODES.equals(name)) {
      return Mono.error(
          new ApiProblem(
              ProblemType.TUNNEL_TARGET_UNKNOWN,
              "Agent "
                  + agent.name()
                  + " is not a trusted cluster; "
                  + (NODES.equals(name) ? "tunnelTarget nodes" : "node")
                  + " applies only to an agent of kind cluster"));
    }
    if (agent.kind() != AgentKind.NODE) {
      return Mono.error(
          new ApiProblem(
              ProblemType.TUNNEL_TARGET_UNKNOWN,
              "Agent "
                  + agent.name()
                  + " is a "
                  + agent.kind().getValue()
                  + " agent, not an edge node; tunnels reach only the targets edge nodes declare"));
    }
    if (!agent.declares(name)) {
      String exposed =
          agent.targets().isEmpty()
              ? "it declares no targets"
              : "it exposes "
                  + String.join(", ", agent.targets().stream().map(TunnelTarget::getName).toList());
      return Mono.error(
          new ApiProblem(
              ProblemType.TUNNEL_TARGET_UNKNOWN,
              "Node " + agent.name() + " does not expose " + name + "; " + exposed));
    }
    String login = create.getLogin();
    if (SSH.equals(name) && !caller.grants().allowsLogin(agent.labels(), login)) {
      return access.forbid(
          exchange,
          "agent",
          "connect",
          auditTarget,
          "ssh login " + login + " not allowed on node " + agent.name(),
          "Your roles do not allow SSH login "
              + login
              + " on node "
              + agent.name()
              + " (expected: a rule on agent connect listing it in logins)");
    }
    return Mono.empty();
  }

  private Mono<ResponseEntity<SessionCreated>> issue(
      ServerWebExchange exchange,
      Caller caller,
      SessionCreate create,
      SessionMode mode,
      AgentRow agent,
      Target target) {
    if (!agent.online()) {
      return Mono.error(
          new ApiProblem(
              ProblemType.AGENT_OFFLINE,
              "Agent " + agent.name() + " is not connected to any signal node; try again later"));
    }
    boolean tunnel = mode == SessionMode.TUNNEL;
    // A tunnel's bytes always pass through signal (the node's reverse tunnel), never peer to peer.
    SessionTransport transport =
        tunnel || settings.forceRelay()
            ? SessionTransport.RELAY
            : create.getTransport() == null ? SessionTransport.AUTO : create.getTransport();
    String tunnelTarget = tunnel ? create.getTunnelTarget() : null;
    String login = tunnel ? create.getLogin() : null;
    boolean routed = tunnel && agent.kind() == AgentKind.CLUSTER;
    String remoteNode = routed ? create.getNode() : null;
    UUID id = UUID.randomUUID();
    String tokenId = UUID.randomUUID().toString();
    Instant expires = Instant.now().plus(settings.connectTokenTtl());
    // No ICE for a tunnel, hence no TURN credential handed out for nothing.
    List<IceServer> servers = tunnel ? List.of() : ice.forSession(caller.userId());
    // An online agent's row already carries its node's id and URL (joined when it was read).
    String nodeId = agent.signalNodeId();
    String signalUrl = SignalNodes.clientUrl(agent.nodeUrl());
    return tx.transactional(
            sessions
                .insert(
                    id,
                    caller.userId(),
                    caller.username(),
                    agent.id(),
                    mode,
                    transport,
                    tunnelTarget,
                    login,
                    remoteNode,
                    tokenId,
                    expires,
                    nodeId)
                .then(
                    access.success(
                        exchange,
                        "session.create",
                        "session",
                        id
                            + " (agent "
                            + agent.name()
                            + ", "
                            + mode.getValue()
                            + ", "
                            + transport.getValue()
                            + ")",
                        tunnel
                            ? tunnelDetail(agent, routed, remoteNode, tunnelTarget, login)
                            : null)))
        .then(
            tokens.issue(
                new ConnectTokenIssuer.Grant(
                    tokenId,
                    id.toString(),
                    caller.userId().toString(),
                    caller.username(),
                    agent.id().toString(),
                    nodeId,
                    mode.getValue(),
                    transport.getValue(),
                    servers,
                    target.clipboard(),
                    settings.idleDisconnect().toSeconds(),
                    settings.consentTimeout().toSeconds(),
                    tunnelTarget,
                    login,
                    routed
                        ? new ConnectTokenIssuer.Route(clusterName, remoteNode, caller.roles())
                        : null,
                    expires)))
        .flatMap(token -> sessions.find(id).map(row -> Map.entry(token, row)))
        .map(
            tokenAndRow -> {
              Session s = tokenAndRow.getValue().session();
              SessionCreated created =
                  new SessionCreated(
                      s.getId(),
                      s.getUserId(),
                      s.getUsername(),
                      s.getAgentId(),
                      s.getMode(),
                      s.getTransport(),
                      s.getState(),
                      s.getCreatedAt(),
                      tokenAndRow.getKey(),
                      expires.atOffset(ZoneOffset.UTC),
                      signalUrl,
                      servers,
                      agent.dtlsFingerprint());
              created.setSignalNodeId(nodeId);
              created.setTunnelTarget(s.getTunnelTarget());
              created.setLogin(s.getLogin());
              created.setNode(s.getNode());
              return ResponseEntity.status(HttpStatus.CREATED)
                  .header(HttpHeaders.CACHE_CONTROL, "no-store")
                  .body(created);
            });
  }

  /** What a tunnel's {@code session.create} event says of where it goes. */
  private static String tunnelDetail(
      AgentRow agent, boolean routed, String remoteNode, String tunnelTarget, String login) {
    String target = ", target " + tunnelTarget + (login == null ? "" : ", login " + login);
    return routed
        ? "routed to trusted cluster "
            + agent.name()
            + (remoteNode == null ? "" : ", node " + remoteNode)
            + target
            + " (the leaf decides and audits)"
        : "node " + agent.name() + target;
  }

  /**
   * Completes when {@code tunnelTarget} and {@code login} fit the mode: a tunnel names its target,
   * a tunnel to {@code ssh} (and only that) names a login, other modes name neither. Otherwise
   * fails with a validation problem naming every field that is wrong.
   */
  private static Mono<Void> checkTunnelFields(SessionCreate create) {
    SessionMode mode = create.getMode() == null ? SessionMode.CONTROL : create.getMode();
    String target = create.getTunnelTarget();
    String login = create.getLogin();
    List<FieldError> errors = new ArrayList<>();
    if (mode == SessionMode.TUNNEL) {
      if (target == null) {
        errors.add(
            new FieldError(
                "tunnelTarget", "missing (expected: ssh, app:NAME or tcp:PORT for mode tunnel)"));
      } else if (NODES.equals(target) && (login != null || create.getNode() != null)) {
        errors.add(
            new FieldError(
                login != null ? "login" : "node",
                "set for tunnelTarget nodes (expected: none; the node list names no node or"
                    + " login)"));
      } else if (SSH.equals(target) && login == null) {
        errors.add(
            new FieldError(
                "login", "missing (expected: the account to log in as, for tunnelTarget ssh)"));
      } else if (!SSH.equals(target) && login != null) {
        errors.add(
            new FieldError(
                "login",
                "'"
                    + login
                    + "' for tunnelTarget "
                    + target
                    + " (expected: none; only ssh takes a login)"));
      }
    } else {
      if (create.getNode() != null) {
        errors.add(
            new FieldError(
                "node",
                "'"
                    + create.getNode()
                    + "' for mode "
                    + mode.getValue()
                    + " (expected: mode tunnel to a trusted cluster)"));
      }
      if (target != null) {
        errors.add(
            new FieldError(
                "tunnelTarget",
                "'" + target + "' for mode " + mode.getValue() + " (expected: mode tunnel)"));
      }
      if (login != null) {
        errors.add(
            new FieldError(
                "login",
                "'"
                    + login
                    + "' for mode "
                    + mode.getValue()
                    + " (expected: mode tunnel with tunnelTarget ssh)"));
      }
    }
    return errors.isEmpty() ? Mono.empty() : Mono.error(ApiProblem.validation(errors));
  }

  @Override
  public Mono<ResponseEntity<SessionPage>> listSessions(
      SessionState state, UUID agent, Integer limit, String cursor, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    UUID onlyUser = Access.allows(exchange, Map.of(), null) ? null : caller.userId();
    long before = Cursors.decode(cursor, Long.MAX_VALUE);
    return sessions
        .page(onlyUser, state, agent, before, limit + 1)
        .collectList()
        .map(
            rows -> {
              Cursors.Page<SessionRepository.Row> page =
                  Cursors.page(rows, limit, SessionRepository.Row::rowNo);
              SessionPage result =
                  new SessionPage(
                      page.rows().stream().map(SessionRepository.Row::session).toList());
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<Session>> getSession(UUID sessionId, ServerWebExchange exchange) {
    return find(sessionId)
        .flatMap(
            row ->
                access
                    .require(exchange, Map.of(), row.session().getUserId(), sessionId.toString())
                    .thenReturn(ResponseEntity.ok(row.session())));
  }

  @Override
  public Mono<ResponseEntity<Void>> terminateSession(UUID sessionId, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return find(sessionId)
        .flatMap(
            row ->
                access
                    .require(exchange, Map.of(), row.session().getUserId(), sessionId.toString())
                    .then(
                        tx.transactional(
                            sessions
                                .terminate(sessionId, "terminated by " + caller.username())
                                .filter(ended -> ended)
                                .flatMap(
                                    ended ->
                                        access.success(
                                            exchange,
                                            "session.terminate",
                                            "session",
                                            sessionId.toString()))))
                    .then(
                        row.session().getState() == SessionState.ACTIVE
                            ? nodeClient.cutSession(row.session().getSignalNodeId(), sessionId)
                            : Mono.empty()))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<SessionRepository.Row> find(UUID id) {
    return sessions.find(id).switchIfEmpty(Mono.error(() -> ApiProblem.notFound("session", id)));
  }
}
