package dev.airlock.signal.agent;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/** The agents admitted at this node, by agent id; at most one connection per agent. */
@Component
public class AgentRegistry {

  private final Map<UUID, AgentConnection> agents = new ConcurrentHashMap<>();

  /** The live connection of agent {@code id}, or null. */
  public AgentConnection get(UUID id) {
    return agents.get(id);
  }

  /** How many agents are connected. */
  public int size() {
    return agents.size();
  }

  /** Registers {@code connection}; returns the connection it replaces, or null. */
  AgentConnection put(AgentConnection connection) {
    return agents.put(connection.agentId(), connection);
  }

  /** Forgets {@code connection}; false if a newer one had replaced it already. */
  boolean remove(AgentConnection connection) {
    return agents.remove(connection.agentId(), connection);
  }
}
