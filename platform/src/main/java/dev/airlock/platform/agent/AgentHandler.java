package dev.airlock.platform.agent;

import dev.airlock.platform.api.AgentsApi;
import dev.airlock.platform.api.model.Agent;
import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.AgentPage;
import dev.airlock.platform.api.model.JoinToken;
import dev.airlock.platform.api.model.JoinTokenCreate;
import dev.airlock.platform.api.model.JoinTokenCreated;
import dev.airlock.platform.api.model.JoinTokenPage;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.session.SessionRepository;
import dev.airlock.platform.signalnode.SignalNodeClient;
import dev.airlock.platform.web.Cursors;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
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
 * Serves the agent operations: join tokens, the agent list with presence, and revocation, which
 * also has the signal node holding the agent disconnect it at once.
 */
@RestController
public class AgentHandler implements AgentsApi {

  private final AgentRepository agents;
  private final JoinTokens joinTokens;
  private final SessionRepository sessions;
  private final SignalNodeClient nodeClient;
  private final Access access;
  private final TransactionalOperator tx;

  public AgentHandler(
      AgentRepository agents,
      JoinTokens joinTokens,
      SessionRepository sessions,
      SignalNodeClient nodeClient,
      Access access,
      TransactionalOperator tx) {
    this.agents = agents;
    this.joinTokens = joinTokens;
    this.sessions = sessions;
    this.nodeClient = nodeClient;
    this.access = access;
    this.tx = tx;
  }

  @Override
  public Mono<ResponseEntity<JoinTokenCreated>> createJoinToken(
      Mono<JoinTokenCreate> body, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return body.flatMap(
        create -> {
          UUID id = UUID.randomUUID();
          Map<String, String> labels = create.getLabels() == null ? Map.of() : create.getLabels();
          int maxUses = create.getMaxUses() == null ? 1 : create.getMaxUses();
          int ttl = create.getTtlSeconds() == null ? 3600 : create.getTtlSeconds();
          Instant expires = Rows.now().plus(Duration.ofSeconds(ttl));
          return tx.transactional(
                  joinTokens
                      .create(
                          id,
                          create.getKind(),
                          labels,
                          create.getDescription(),
                          maxUses,
                          expires,
                          caller.username())
                      .flatMap(
                          secret ->
                              access
                                  .success(
                                      exchange,
                                      "agent_join_token.create",
                                      "agent_join_token",
                                      id
                                          + " ("
                                          + create.getKind().getValue()
                                          + ", "
                                          + maxUses
                                          + " use"
                                          + (maxUses == 1 ? "" : "s")
                                          + ")")
                                  .thenReturn(secret)))
              .flatMap(secret -> joinTokens.find(id).map(row -> Map.entry(secret, row)))
              .map(
                  secretAndRow -> {
                    JoinToken t = secretAndRow.getValue().token();
                    JoinTokenCreated created =
                        new JoinTokenCreated(
                            t.getId(),
                            t.getKind(),
                            t.getLabels(),
                            t.getMaxUses(),
                            t.getUses(),
                            t.getCreatedAt(),
                            t.getExpiresAt(),
                            t.getRevoked(),
                            secretAndRow.getKey());
                    created.setDescription(t.getDescription());
                    created.setCreatedBy(t.getCreatedBy());
                    return ResponseEntity.status(HttpStatus.CREATED)
                        .header(HttpHeaders.CACHE_CONTROL, "no-store")
                        .body(created);
                  });
        });
  }

  @Override
  public Mono<ResponseEntity<JoinTokenPage>> listJoinTokens(
      Integer limit, String cursor, ServerWebExchange exchange) {
    return joinTokens
        .page(Cursors.decode(cursor, 0), limit + 1)
        .collectList()
        .map(
            rows -> {
              Cursors.Page<JoinTokens.Row> page = Cursors.page(rows, limit, JoinTokens.Row::rowNo);
              JoinTokenPage result =
                  new JoinTokenPage(page.rows().stream().map(JoinTokens.Row::token).toList());
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<Void>> revokeJoinToken(UUID tokenId, ServerWebExchange exchange) {
    return joinTokens
        .find(tokenId)
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("join token", tokenId)))
        .then(
            tx.transactional(
                joinTokens
                    .revoke(tokenId)
                    .filter(revoked -> revoked)
                    .flatMap(
                        revoked ->
                            access.success(
                                exchange,
                                "agent_join_token.revoke",
                                "agent_join_token",
                                tokenId.toString()))))
        .thenReturn(ResponseEntity.noContent().build());
  }

  @Override
  public Mono<ResponseEntity<AgentPage>> listAgents(
      AgentKind kind,
      Boolean online,
      List<String> label,
      Integer limit,
      String cursor,
      ServerWebExchange exchange) {
    Map<String, String> labels = new LinkedHashMap<>();
    if (label != null) {
      for (String pair : label) {
        int eq = pair.indexOf('=');
        if (eq < 1) {
          return Mono.error(ApiProblem.validation("label", "'" + pair + "' (expected: key=value)"));
        }
        labels.put(pair.substring(0, eq), pair.substring(eq + 1));
      }
    }
    return agents
        .page(kind, online, labels, Cursors.decode(cursor, 0), limit + 1)
        .collectList()
        .map(
            rows -> {
              Cursors.Page<AgentRow> page = Cursors.page(rows, limit, AgentRow::rowNo);
              // Rows the caller's rules do not select are left out; the cursor still moves past
              // them, so a page may hold fewer than `limit` agents.
              List<Agent> visible =
                  page.rows().stream()
                      .filter(a -> Access.allows(exchange, a.labels(), null))
                      .map(AgentRow::toApi)
                      .toList();
              AgentPage result = new AgentPage(visible);
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<Agent>> getAgent(UUID agentId, ServerWebExchange exchange) {
    return find(agentId)
        .flatMap(
            agent ->
                access
                    .require(exchange, agent.labels(), null, agentId.toString())
                    .thenReturn(ResponseEntity.ok(agent.toApi())));
  }

  @Override
  public Mono<ResponseEntity<Void>> revokeAgent(UUID agentId, ServerWebExchange exchange) {
    return find(agentId)
        .flatMap(
            agent ->
                access
                    .require(exchange, agent.labels(), null, agentId.toString())
                    .then(
                        tx.transactional(
                            agents
                                .revoke(agentId)
                                .filter(revoked -> revoked)
                                .flatMap(
                                    revoked ->
                                        sessions
                                            .endPending(agentId, "agent revoked")
                                            .then(
                                                access.success(
                                                    exchange,
                                                    "agent.revoke",
                                                    "agent",
                                                    agentId + " (" + agent.name() + ")")))))
                    .then(
                        agent.signalNodeId() == null
                            ? Mono.empty()
                            : nodeClient.kickAgent(agent.signalNodeId(), agentId)))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<AgentRow> find(UUID id) {
    return agents.find(id).switchIfEmpty(Mono.error(() -> ApiProblem.notFound("agent", id)));
  }
}
