package dev.airlock.signal.session;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.model.SessionEnd;
import dev.airlock.sdk.model.SessionPath;
import dev.airlock.signal.platform.PlatformLink;
import dev.airlock.signal.platform.PlatformProblems;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.token.ConnectToken;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The sessions live at this node, by id and by agent socket. Ending a session (from whichever side,
 * for whatever reason) goes through {@link #end}, which tells the peers, logs, and reports the end
 * to the platform exactly once.
 */
@Component
public class SessionRegistry {

  private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

  private final PlatformLink platform;
  private final Map<UUID, LiveSession> byId = new ConcurrentHashMap<>();
  private final Map<PeerSocket, Set<LiveSession>> byAgent = new ConcurrentHashMap<>();
  private final Set<Mono<?>> reports = ConcurrentHashMap.newKeySet();

  public SessionRegistry(PlatformLink platform) {
    this.platform = platform;
  }

  /**
   * Pairs a client with an agent.
   *
   * @return the session, or null when the agent already holds {@code maxPerAgent} sessions
   */
  public synchronized LiveSession open(
      ConnectToken token, PeerSocket agent, PeerSocket client, int maxPerAgent) {
    // Synchronised so that concurrent clients of one agent cannot overshoot the limit.
    Set<LiveSession> ofAgent = byAgent.computeIfAbsent(agent, key -> ConcurrentHashMap.newKeySet());
    if (ofAgent.size() >= maxPerAgent) {
      return null;
    }
    LiveSession session = new LiveSession(token, agent, client);
    ofAgent.add(session);
    byId.put(session.id(), session);
    return session;
  }

  /** The live session {@code id}, or null. */
  public LiveSession get(UUID id) {
    return byId.get(id);
  }

  /** The live sessions of the agent on {@code agent}. */
  public List<LiveSession> of(PeerSocket agent) {
    Set<LiveSession> sessions = byAgent.get(agent);
    return sessions == null ? List.of() : List.copyOf(sessions);
  }

  /** How many sessions are live. */
  public int size() {
    return byId.size();
  }

  /**
   * Ends a session once; later calls for the same session do nothing.
   *
   * @param reason why, as reported to the platform and to the peers
   * @param tellAgent whether to send the agent {@code session.close}
   * @param clientCode the close code for the client socket, which first gets {@code session.close};
   *     0 when the client is gone already
   * @param clientReason the close reason for the client socket
   */
  public void end(
      LiveSession session, String reason, boolean tellAgent, int clientCode, String clientReason) {
    if (!session.markEnded()) {
      return;
    }
    byId.remove(session.id(), session);
    Set<LiveSession> ofAgent = byAgent.get(session.agent());
    if (ofAgent != null) {
      ofAgent.remove(session);
      // Drop the empty set so a gone agent socket leaves nothing behind.
      byAgent.computeIfPresent(session.agent(), (key, set) -> set.isEmpty() ? null : set);
    }
    SignalMessage close =
        new SignalMessage().type(MessageType.SESSION_CLOSE).sessionId(session.id()).reason(reason);
    if (tellAgent) {
      session.agent().send(close);
    }
    if (clientCode != 0) {
      session.client().send(close);
      session.client().close(clientCode, clientReason);
    }
    SessionPath path = session.path();
    log.info(
        "Session {} ended: {}; path {}, {} bytes from client, {} bytes from agent"
            + " (relayed: counted here; p2p: as the client reported), {} s",
        session.id(),
        reason,
        path == null ? "none" : path.getValue(),
        session.bytesFromClient(),
        session.bytesFromAgent(),
        session.duration().toSeconds());
    report(
        new SessionEnd()
            .sessionId(session.id())
            .path(path)
            .reason(reason)
            .bytesFromClient(session.bytesFromClient())
            .bytesFromAgent(session.bytesFromAgent()));
  }

  /**
   * Ends every session of the agent on {@code agent}: each client gets {@code session.close} and is
   * closed with 1000 and {@code clientReason}.
   */
  public void endAllOf(PeerSocket agent, String reason, boolean tellAgent, String clientReason) {
    for (LiveSession session : of(agent)) {
      end(session, reason, tellAgent, CloseCodes.NORMAL, clientReason);
    }
  }

  /**
   * Ends the sessions of an agent whose connection is gone. The client of a tunnel stream hears
   * that the node's tunnel connection was lost (1001, as when the stream itself breaks: an edge
   * node's signalling and streams share that connection); a view's, that the agent disconnected.
   */
  public void endAllOfLost(PeerSocket agent) {
    for (LiveSession session : of(agent)) {
      if (session.token().tunnel()) {
        end(
            session,
            "tunnel connection lost: agent disconnected",
            false,
            CloseCodes.GOING_AWAY,
            "the node's tunnel connection was lost");
      } else {
        end(session, "agent disconnected", false, CloseCodes.NORMAL, "agent disconnected");
      }
    }
  }

  /** Ends every live session, closing each client with {@code clientCode}. */
  public void endAll(String reason, int clientCode, String clientReason) {
    for (LiveSession session : List.copyOf(byId.values())) {
      end(session, reason, false, clientCode, clientReason);
    }
  }

  /** Reports the end of a session that never got paired (its start was already recorded). */
  public void reportUnpaired(UUID sessionId, String reason) {
    log.info("Session {} ended before it started: {}", sessionId, reason);
    report(new SessionEnd().sessionId(sessionId).reason(reason));
  }

  private void report(SessionEnd end) {
    Mono<?> call =
        platform
            .endSession(end)
            .doOnError(
                error ->
                    log.warn(
                        "Could not report the end of session {} to the platform: {}",
                        end.getSessionId(),
                        PlatformProblems.detail(error)))
            .onErrorResume(error -> Mono.empty())
            .cache();
    reports.add(call);
    call.doFinally(signal -> reports.remove(call)).subscribe();
  }

  /** Completes when every end reported so far has been sent (or given up), or after {@code max}. */
  public Mono<Void> reportsSent(Duration max) {
    return Mono.when(List.copyOf(reports)).timeout(max, Mono.empty());
  }
}
