package dev.airlock.platform.agent;

import dev.airlock.platform.api.model.Agent;
import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.TunnelTarget;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An agent as stored, with the node that holds it.
 *
 * @param online whether a live signal node holds it now
 * @param nodeUrl the WebSocket base URL of that node, while online
 * @param targets what an edge node declared at its last connect; empty for other kinds
 */
public record AgentRow(
    UUID id,
    long rowNo,
    String name,
    AgentKind kind,
    Map<String, String> labels,
    String hostname,
    String version,
    String publicKey,
    String dtlsFingerprint,
    Instant enrolledAt,
    Instant revokedAt,
    String signalNodeId,
    String nodeUrl,
    Instant lastSeenAt,
    boolean online,
    List<TunnelTarget> targets) {

  public AgentRow {
    targets = TunnelTargets.kept(kind, targets);
  }

  /** Whether this agent is an edge node that declared a target called {@code name}. */
  public boolean declares(String name) {
    return targets.stream().anyMatch(t -> t.getName().equals(name));
  }

  /** The agent as the API shows it. */
  public Agent toApi() {
    Agent agent =
        new Agent(
            id,
            name,
            kind,
            labels,
            dtlsFingerprint,
            online,
            enrolledAt.atOffset(ZoneOffset.UTC),
            revokedAt != null);
    agent.setHostname(hostname);
    agent.setVersion(version);
    agent.setTargets(new ArrayList<>(targets));
    if (online) {
      agent.setSignalNodeId(signalNodeId);
      agent.setSignalUrl(nodeUrl);
      agent.setLastSeenAt(Instant.now().atOffset(ZoneOffset.UTC));
    } else if (lastSeenAt != null) {
      agent.setLastSeenAt(lastSeenAt.atOffset(ZoneOffset.UTC));
    }
    return agent;
  }
}
