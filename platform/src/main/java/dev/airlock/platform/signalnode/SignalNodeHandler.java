package dev.airlock.platform.signalnode;

import dev.airlock.platform.agent.AgentProofs;
import dev.airlock.platform.agent.AgentRepository;
import dev.airlock.platform.agent.AgentRow;
import dev.airlock.platform.agent.JoinTokens;
import dev.airlock.platform.agent.TunnelTargets;
import dev.airlock.platform.api.SignalNodesApi;
import dev.airlock.platform.api.model.Agent;
import dev.airlock.platform.api.model.AgentConnection;
import dev.airlock.platform.api.model.AgentEnrolment;
import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.Session;
import dev.airlock.platform.api.model.SessionEnd;
import dev.airlock.platform.api.model.SessionEvent;
import dev.airlock.platform.api.model.SessionStart;
import dev.airlock.platform.api.model.SignalNode;
import dev.airlock.platform.api.model.SignalNodeRegistration;
import dev.airlock.platform.api.model.SignalRefusal;
import dev.airlock.platform.api.model.TunnelTarget;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.InvalidCredentialsException;
import dev.airlock.platform.container.ContainerLauncher;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.session.SessionRepository;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Serves the calls signal nodes make: registration, agent enrolment and admission, connect-token
 * redemption and session ends, and credentials they refused on their own. Agent actions are audited
 * with the agent as the actor ({@code agent:<name>}) and the node in the reason.
 */
@RestController
public class SignalNodeHandler implements SignalNodesApi {

  private final SignalNodes nodes;
  private final AgentRepository agents;
  private final JoinTokens joinTokens;
  private final ContainerLauncher launcher;
  private final AgentProofs proofs;
  private final SessionRepository sessions;
  private final AuditLog audit;
  private final TransactionalOperator tx;

  public SignalNodeHandler(
      SignalNodes nodes,
      AgentRepository agents,
      JoinTokens joinTokens,
      ContainerLauncher launcher,
      AgentProofs proofs,
      SessionRepository sessions,
      AuditLog audit,
      TransactionalOperator tx) {
    this.nodes = nodes;
    this.agents = agents;
    this.joinTokens = joinTokens;
    this.launcher = launcher;
    this.proofs = proofs;
    this.sessions = sessions;
    this.audit = audit;
    this.tx = tx;
  }

  @Override
  public Mono<ResponseEntity<SignalNode>> registerSignalNode(
      String nodeId, Mono<SignalNodeRegistration> body, ServerWebExchange exchange) {
    return body.flatMap(
        registration ->
            nodes
                .register(nodeId, registration.getUrl(), registration.getAdminUrl())
                .then(nodes.find(nodeId))
                .zipWith(agents.heldBy(nodeId))
                .map(
                    nodeAndCount ->
                        ResponseEntity.ok(nodeAndCount.getT1().toApi(nodeAndCount.getT2()))));
  }

  @Override
  public Mono<ResponseEntity<Flux<SignalNode>>> listSignalNodes(ServerWebExchange exchange) {
    return agents
        .onlineByNode()
        .map(
            counts ->
                ResponseEntity.ok(
                    nodes.all().map(node -> node.toApi(counts.getOrDefault(node.id(), 0L)))));
  }

  @Override
  public Mono<ResponseEntity<Agent>> enrolAgent(
      String nodeId, Mono<AgentEnrolment> body, ServerWebExchange exchange) {
    return body.flatMap(
        enrolment -> {
          try {
            TunnelTargets.check("targets", enrolment.getTargets());
          } catch (ApiProblem e) {
            return Mono.error(e);
          }
          UUID id = UUID.randomUUID();
          String hostname = enrolment.getHostname();
          Mono<Agent> enrol =
              joinTokens
                  .spend(enrolment.getJoinToken())
                  .switchIfEmpty(
                      Mono.error(
                          () ->
                              new ApiProblem(
                                  ProblemType.INVALID_JOIN_TOKEN,
                                  "The join token is unknown, expired, revoked or used up; ask an"
                                      + " administrator for a new one")))
                  .flatMap(
                      grant ->
                          agents
                              .nameTaken(hostname)
                              .map(
                                  taken ->
                                      taken
                                          ? hostname + "-" + id.toString().substring(0, 8)
                                          : hostname)
                              .flatMap(
                                  name ->
                                      agents
                                          .insert(
                                              id,
                                              name,
                                              grant,
                                              hostname,
                                              enrolment.getVersion(),
                                              enrolment.getPublicKey(),
                                              enrolment.getDtlsFingerprint(),
                                              nodeId,
                                              enrolment.getTargets())
                                          .then(
                                              agentAudit(
                                                  "agent:" + name,
                                                  "agent.enrol",
                                                  id + " (" + name + ")",
                                                  AuditOutcome.SUCCESS,
                                                  grant.kind().getValue()
                                                      + " agent, join token "
                                                      + grant.tokenId()
                                                      + ", node "
                                                      + nodeId
                                                      + declared(
                                                          grant.kind(), enrolment.getTargets())))
                                          .then(
                                              grant.kind() == AgentKind.CONTAINER
                                                  ? launcher.agentEnrolled(grant.tokenId(), id)
                                                  : Mono.empty())))
                  .then(agents.find(id))
                  .map(AgentRow::toApi);
          return tx.transactional(enrol)
              .onErrorResume(
                  ApiProblem.class,
                  // Audited outside the enrolment's transaction, which the refusal rolls back.
                  e ->
                      e.type() == ProblemType.INVALID_JOIN_TOKEN
                          ? agentAudit(
                                  "agent:" + hostname,
                                  "agent.enrol",
                                  hostname,
                                  AuditOutcome.FAILURE,
                                  "join token unknown, expired, revoked or used up (node "
                                      + nodeId
                                      + ")")
                              .then(Mono.error(e))
                          : Mono.error(e))
              .map(agent -> ResponseEntity.status(HttpStatus.CREATED).body(agent));
        });
  }

  @Override
  public Mono<ResponseEntity<Agent>> connectAgent(
      String nodeId, Mono<AgentConnection> body, ServerWebExchange exchange) {
    return body.flatMap(
        connection -> {
          // Checked before the proof, whose single use a refused declaration must not spend.
          try {
            TunnelTargets.check("targets", connection.getTargets());
          } catch (ApiProblem e) {
            return Mono.error(e);
          }
          UUID agentId;
          try {
            agentId = AgentProofs.claimedAgent(connection.getProof());
          } catch (InvalidCredentialsException e) {
            return refuseProof("unknown agent", null, e.getMessage(), nodeId);
          }
          return agents
              .find(agentId)
              .switchIfEmpty(
                  Mono.defer(() -> refuseProof("agent " + agentId, null, "no such agent", nodeId)))
              .flatMap(
                  agent -> {
                    String actor = "agent:" + agent.name();
                    if (agent.revokedAt() != null) {
                      return agentAudit(
                              actor,
                              "agent.connect",
                              agentId + " (" + agent.name() + ")",
                              AuditOutcome.DENIED,
                              "agent revoked (node " + nodeId + ")")
                          .then(
                              Mono.error(
                                  new ApiProblem(
                                      ProblemType.AGENT_REVOKED,
                                      "Agent "
                                          + agent.name()
                                          + " has been revoked; enrol it again with a new join"
                                          + " token")));
                    }
                    return proofs
                        .verify(connection.getProof(), agentId, agent.publicKey())
                        .onErrorResume(
                            InvalidCredentialsException.class,
                            e -> refuseProof(actor, agent, e.getMessage(), nodeId))
                        .then(
                            agents.connected(
                                agentId, nodeId, agent.kind(), connection.getTargets()))
                        .flatMap(
                            admitted ->
                                agentAudit(
                                    actor,
                                    "agent.connect",
                                    agentId + " (" + agent.name() + ")",
                                    AuditOutcome.SUCCESS,
                                    "node "
                                        + nodeId
                                        + declared(agent.kind(), connection.getTargets())))
                        .then(agents.find(agentId))
                        .map(row -> ResponseEntity.ok(row.toApi()));
                  });
        });
  }

  private <T> Mono<T> refuseProof(String actor, AgentRow agent, String reason, String nodeId) {
    return agentAudit(
            actor.startsWith("agent:") ? actor : "agent:" + actor,
            "agent.connect",
            agent == null ? null : agent.id() + " (" + agent.name() + ")",
            AuditOutcome.FAILURE,
            reason + " (node " + nodeId + ")")
        .then(
            Mono.error(
                new ApiProblem(
                    ProblemType.INVALID_AGENT_PROOF, "The agent's proof was refused: " + reason)));
  }

  @Override
  public Mono<ResponseEntity<Void>> disconnectAgent(
      String nodeId, UUID agentId, ServerWebExchange exchange) {
    return agents
        .disconnected(agentId, nodeId)
        .thenReturn(ResponseEntity.<Void>noContent().build());
  }

  @Override
  public Mono<ResponseEntity<Session>> startSession(
      String nodeId, Mono<SessionStart> body, ServerWebExchange exchange) {
    return body.flatMap(
        start ->
            sessions
                .find(start.getSessionId())
                .switchIfEmpty(
                    Mono.error(() -> ApiProblem.notFound("session", start.getSessionId())))
                .flatMap(
                    row ->
                        sessions
                            .start(start.getSessionId(), start.getTokenId(), nodeId)
                            .flatMap(
                                started ->
                                    started
                                        ? sessionAudit(
                                                row.session(),
                                                "session.start",
                                                AuditOutcome.SUCCESS,
                                                "node " + nodeId)
                                            .then(sessions.find(start.getSessionId()))
                                            .map(r -> ResponseEntity.ok(r.session()))
                                        : sessionAudit(
                                                row.session(),
                                                "session.start",
                                                AuditOutcome.DENIED,
                                                "connect token replayed, expired or for another"
                                                    + " node (node "
                                                    + nodeId
                                                    + ")")
                                            .then(
                                                Mono.error(
                                                    new ApiProblem(
                                                        ProblemType.TOKEN_REPLAYED,
                                                        "The connect token has been used already,"
                                                            + " has expired, or its session"
                                                            + " ended; open a new session"))))));
  }

  @Override
  public Mono<ResponseEntity<Session>> endSession(
      String nodeId, Mono<SessionEnd> body, ServerWebExchange exchange) {
    return body.flatMap(
        end ->
            tx.transactional(
                    sessions
                        .reportEnd(
                            end.getSessionId(),
                            end.getReason(),
                            end.getPath(),
                            end.getBytesFromClient(),
                            end.getBytesFromAgent())
                        .flatMap(
                            first ->
                                sessions
                                    .find(end.getSessionId())
                                    // A repeated report changes nothing and is not audited again.
                                    .flatMap(
                                        row ->
                                            (first
                                                    ? sessionAudit(
                                                        row.session(),
                                                        "session.end",
                                                        AuditOutcome.SUCCESS,
                                                        summary(row.session()))
                                                    : Mono.<Void>empty())
                                                .thenReturn(row))))
                .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("session", end.getSessionId())))
                .map(row -> ResponseEntity.ok(row.session())));
  }

  @Override
  public Mono<ResponseEntity<Void>> reportSessionEvent(
      String nodeId, Mono<SessionEvent> body, ServerWebExchange exchange) {
    return body.flatMap(
        event ->
            sessions
                .find(event.getSessionId())
                .filter(row -> row.session().getAgentId().equals(event.getAgentId()))
                .switchIfEmpty(
                    Mono.error(() -> ApiProblem.notFound("session", event.getSessionId())))
                .flatMap(
                    row -> {
                      String name = event.getEvent().getValue();
                      String action =
                          switch (event.getEvent()) {
                            case CLIPBOARD_READ, CLIPBOARD_WRITE, CLIPBOARD_REFUSED ->
                                "session.clipboard";
                            case CONSENT_GRANTED, CONSENT_DENIED -> "session.consent";
                            case IDLE_DISCONNECT -> "session.idle";
                          };
                      boolean refused =
                          event.getEvent() == SessionEvent.EventEnum.CLIPBOARD_REFUSED
                              || event.getEvent() == SessionEvent.EventEnum.CONSENT_DENIED;
                      // The size of a transfer, never its content (the agent does not send it).
                      String reason =
                          event.getBytes() == null
                              ? name
                              : name + ", " + event.getBytes() + " bytes";
                      return sessionAudit(
                          row.session(),
                          action,
                          refused ? AuditOutcome.DENIED : AuditOutcome.SUCCESS,
                          reason);
                    })
                .thenReturn(ResponseEntity.noContent().<Void>build()));
  }

  @Override
  public Mono<ResponseEntity<Void>> reportRefusal(
      String nodeId, Mono<SignalRefusal> body, ServerWebExchange exchange) {
    return body.flatMap(
            refusal ->
                audit.append(
                    new AuditRecord(
                        "anonymous",
                        null,
                        switch (refusal.getCredential()) {
                          case CONNECT_TOKEN -> "session.connect";
                          case AGENT_PROOF -> "agent.connect";
                          case JOIN_TOKEN -> "agent.enrol";
                          case ADMIN_TOKEN -> "signal_node.admin";
                        },
                        refusal.getSessionId() != null
                            ? "session"
                            : refusal.getAgentId() != null ? "agent" : null,
                        refusal.getSessionId() != null
                            ? refusal.getSessionId().toString()
                            : refusal.getAgentId() != null ? refusal.getAgentId().toString() : null,
                        AuditOutcome.DENIED,
                        refusal.getCredential().getValue()
                            + " refused by node "
                            + nodeId
                            + ": "
                            + refusal.getReason(),
                        refusal.getSourceAddress())))
        .thenReturn(ResponseEntity.noContent().build());
  }

  // What an edge node exposes is part of what an auditor must be able to see change.
  private static String declared(AgentKind kind, List<TunnelTarget> targets) {
    if (kind != AgentKind.NODE) {
      return "";
    }
    List<TunnelTarget> kept = TunnelTargets.kept(kind, targets);
    return kept.isEmpty()
        ? ", targets: none"
        : ", targets: " + String.join(", ", kept.stream().map(TunnelTarget::getName).toList());
  }

  private static String summary(Session s) {
    String duration =
        s.getStartedAt() == null || s.getEndedAt() == null
            ? "never started"
            : String.format(
                "%.1f s", Duration.between(s.getStartedAt(), s.getEndedAt()).toMillis() / 1000.0);
    return "duration "
        + duration
        + ", path "
        + (s.getPath() == null ? "none" : s.getPath().getValue())
        + (s.getBytesFromClient() == null
            ? ", bytes not reported"
            : ", bytes from client "
                + s.getBytesFromClient()
                + ", from agent "
                + s.getBytesFromAgent())
        + ", reason: "
        + s.getEndReason();
  }

  private Mono<Void> agentAudit(
      String actor, String action, String target, AuditOutcome outcome, String reason) {
    return audit.append(
        new AuditRecord(actor, null, action, "agent", target, outcome, reason, null));
  }

  private Mono<Void> sessionAudit(
      Session session, String action, AuditOutcome outcome, String reason) {
    return audit.append(
        new AuditRecord(
            session.getUsername(),
            session.getUserId().toString(),
            action,
            "session",
            session.getId() + " (agent " + session.getAgentId() + ")",
            outcome,
            reason,
            null));
  }
}
