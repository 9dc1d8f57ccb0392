package dev.airlock.signal.token;

import dev.airlock.protocol.message.IceServerConfig;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A verified connect token: who may open which session to which agent, at this node.
 *
 * @param sessionId the session ({@code sid})
 * @param agentId the target agent ({@code agt})
 * @param nodeId the node it is for ({@code nod}); always this node once verified
 * @param mode {@code control} or {@code view} ({@code mod})
 * @param transport {@code auto} or {@code relay} ({@code trp})
 * @param iceServers the STUN/TURN servers for the agent ({@code ice})
 * @param tokenId the token's id ({@code jti}), redeemed once at the platform
 * @param userId the user ({@code sub})
 * @param username the user's name ({@code name})
 * @param clipboard the clipboard policy ({@code clp})
 * @param idleSeconds idle disconnect ({@code idl})
 * @param consentSeconds consent timeout ({@code cns})
 * @param tunnelTarget for mode {@code tunnel}, the node's target ({@code tgt}: {@code ssh}, {@code
 *     app:NAME}, {@code tcp:PORT}); null otherwise
 * @param route for a tunnel to a trusted cluster's link, what the leaf needs ({@code rcl}, {@code
 *     rnd}, {@code lgn}, {@code rls}); null otherwise
 * @param expiresAt when the token stops being accepted
 */
public record ConnectToken(
    UUID sessionId,
    UUID agentId,
    String nodeId,
    String mode,
    String transport,
    List<IceServerConfig> iceServers,
    String tokenId,
    String userId,
    String username,
    String clipboard,
    int idleSeconds,
    int consentSeconds,
    String tunnelTarget,
    Route route,
    Instant expiresAt) {

  /**
   * A tunnel routed to a trusted (leaf) cluster.
   *
   * @param cluster the root cluster's name
   * @param node the leaf's node, or null for the leaf's node list
   * @param login the SSH login asked for, or null
   * @param roles the user's roles in the root cluster
   */
  public record Route(String cluster, String node, String login, List<String> roles) {}

  /** Whether this is a byte stream to an edge node's target, not a remote view. */
  public boolean tunnel() {
    return "tunnel".equals(mode);
  }

  /** Whether the session must use the relay only. */
  public boolean relayOnly() {
    return "relay".equals(transport);
  }
}
