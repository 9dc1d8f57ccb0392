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
    Instant expiresAt) {

  /** Whether the session must use the relay only. */
  public boolean relayOnly() {
    return "relay".equals(transport);
  }
}
