package dev.airlock.signal.session;

import dev.airlock.sdk.model.SessionPath;
import dev.airlock.signal.socket.PeerSocket;
import dev.airlock.signal.token.ConnectToken;
import java.time.Duration;
import java.time.Instant;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One session running through this node: a client paired with an agent, from the client's {@code
 * welcome} to its end. Safe to use from both peers' event loops.
 */
public final class LiveSession {

  private final ConnectToken token;
  private final PeerSocket agent;
  private final PeerSocket client;
  private final Instant startedAt = Instant.now();
  private final AtomicLong bytesFromClient = new AtomicLong();
  private final AtomicLong bytesFromAgent = new AtomicLong();
  private volatile long[] peerBytes;
  private final AtomicBoolean ended = new AtomicBoolean();
  private volatile boolean sdpExchanged;
  private volatile boolean relaying;
  private final Queue<Runnable> onEnd = new ConcurrentLinkedQueue<>();

  LiveSession(ConnectToken token, PeerSocket agent, PeerSocket client) {
    this.token = token;
    this.agent = agent;
    this.client = client;
  }

  public UUID id() {
    return token.sessionId();
  }

  public ConnectToken token() {
    return token;
  }

  /** The agent's socket. */
  public PeerSocket agent() {
    return agent;
  }

  /** The client's socket. */
  public PeerSocket client() {
    return client;
  }

  /** Whether the token allows the relay only (no peer-to-peer signalling). */
  public boolean relayOnly() {
    return token.relayOnly();
  }

  /** Records that an SDP offer or answer went through. */
  public void sdpExchanged() {
    sdpExchanged = true;
  }

  /** Switches the session to the relay: binary frames flow from now on. */
  public void startRelay() {
    relaying = true;
  }

  public boolean relaying() {
    return relaying;
  }

  public void countFromClient(long bytes) {
    bytesFromClient.addAndGet(bytes);
  }

  public void countFromAgent(long bytes) {
    bytesFromAgent.addAndGet(bytes);
  }

  /**
   * Records what the client says its peer-to-peer data channels carried (the node never sees those
   * bytes); ignored for relayed sessions, whose bytes the node counts itself.
   */
  public void peerToPeerBytes(Long sent, Long received) {
    if (sent != null && received != null && sent >= 0 && received >= 0) {
      peerBytes = new long[] {sent, received};
    }
  }

  /** Bytes from the client: counted by the node when relayed, as reported when peer to peer. */
  public Long bytesFromClient() {
    return relaying ? Long.valueOf(bytesFromClient.get()) : peerBytes(0);
  }

  /** Bytes from the agent: counted by the node when relayed, as reported when peer to peer. */
  public Long bytesFromAgent() {
    return relaying ? Long.valueOf(bytesFromAgent.get()) : peerBytes(1);
  }

  private Long peerBytes(int index) {
    long[] reported = peerBytes;
    return reported == null ? null : reported[index];
  }

  /** {@code relay} if the relay was used, {@code p2p} if an SDP was exchanged, else null. */
  public SessionPath path() {
    if (relaying) {
      return SessionPath.RELAY;
    }
    return sdpExchanged ? SessionPath.P2P : null;
  }

  public Duration duration() {
    return Duration.between(startedAt, Instant.now());
  }

  /**
   * Runs {@code action} when the session ends (at once if it has ended already); for what the
   * session holds beyond its two sockets, such as a tunnel stream.
   */
  public void whenEnded(Runnable action) {
    onEnd.add(action);
    if (ended.get()) {
      runEndActions();
    }
  }

  /** Whether the session has ended. */
  public boolean isEnded() {
    return ended.get();
  }

  /** True the first time only: the caller then ends the session. */
  boolean markEnded() {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    runEndActions();
    return true;
  }

  private void runEndActions() {
    Runnable action;
    while ((action = onEnd.poll()) != null) {
      action.run();
    }
  }
}
