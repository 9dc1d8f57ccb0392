package dev.airlock.sdk.connect;

import dev.airlock.peer.Channel;
import dev.airlock.peer.PeerLink;
import dev.airlock.peer.RelayChannels;
import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.model.SessionPath;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A live remote session to an agent, from {@code AirlockClient.connect}: its channels (the same API
 * peer to peer and through the relay), the path it took, and how it ends. Thread-safe.
 */
public final class RemoteSession {

  /**
   * How a session ended: the signal socket's close code and reason, e.g. {@code 4410} when the
   * platform terminated it, {@code 1000} when either side closed it.
   */
  public record Ending(int code, String reason) {

    /** Whether the platform cut the session (an administrator or a policy). */
    public boolean terminated() {
      return code == CloseCodes.SESSION_TERMINATED;
    }
  }

  private final UUID id;
  private final UUID agentId;
  private final SessionPath path;
  private final Map<String, Channel> channels;
  private final SignalSocket socket;
  private final PeerLink link;
  private final RelayChannels relay;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Mono<Ending> closed;

  RemoteSession(
      UUID id,
      UUID agentId,
      SessionPath path,
      Map<String, Channel> channels,
      SignalSocket socket,
      PeerLink link,
      RelayChannels relay) {
    this.id = id;
    this.agentId = agentId;
    this.path = path;
    this.channels = Map.copyOf(channels);
    this.socket = socket;
    this.link = link;
    this.relay = relay;
    this.closed =
        socket
            .closed()
            .map(ending -> new Ending(ending.code(), ending.reason()))
            .doOnNext(ending -> release())
            .cache();
    closed.subscribe();
  }

  /** The session's id (as in {@code GET /api/v1/sessions/{id}}). */
  public UUID id() {
    return id;
  }

  /** The agent at the other end. */
  public UUID agentId() {
    return agentId;
  }

  /** Peer to peer (DTLS, the agent's pinned certificate) or through the signal node's relay. */
  public SessionPath path() {
    return path;
  }

  /**
   * The channel {@code label}, one of {@link ConnectOptions#channels()}.
   *
   * @throws IllegalArgumentException for a label that was not declared when connecting
   */
  public Channel channel(String label) {
    Channel channel = channels.get(label);
    if (channel == null) {
      throw new IllegalArgumentException(
          "channel "
              + label
              + ": not opened (expected one of "
              + channels.keySet()
              + "; declare it in ConnectOptions.channels)");
    }
    return channel;
  }

  /**
   * The agent's screen as decoded frames, for a session opened with {@link
   * ConnectOptions#withVideo(boolean)} on the peer-to-peer path; empty otherwise (the relay carries
   * no video). With {@code pixels}, each frame carries its ARGB pixels (a copy per frame: costly at
   * high resolutions); without, only its size and time.
   */
  public Flux<PeerLink.ReceivedFrame> videoFrames(boolean pixels) {
    return link == null || path != SessionPath.P2P ? Flux.empty() : link.videoFrames(pixels);
  }

  /**
   * The received screen's statistics as libwebrtc reports them ({@code inbound-rtp}: frames
   * received, decoded and dropped, jitter-buffer delay, decode time, ...); empty without video.
   */
  public Mono<Map<String, Object>> videoStats() {
    return link == null || path != SessionPath.P2P ? Mono.empty() : link.receivedVideoStats();
  }

  /** Ends the session (idempotent): tells the agent, closes the socket with 1000. */
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          if (closing.compareAndSet(false, true) && socket.isOpen()) {
            SignalMessage close =
                new SignalMessage()
                    .type(MessageType.SESSION_CLOSE)
                    .sessionId(id)
                    .reason("closed by the client");
            if (link != null && path == SessionPath.P2P) {
              // The node relays no byte of a peer-to-peer session; the audit gets them from here.
              close.bytesSent(link.bytesOut()).bytesReceived(link.bytesIn());
            }
            socket.send(close);
            return socket.close(CloseCodes.NORMAL, "session closed").then(closed).then();
          }
          return closed.then();
        });
  }

  /** Completes when the session has ended, however it ended. */
  public Mono<Ending> closed() {
    return closed;
  }

  private void release() {
    if (relay != null) {
      relay.close();
    }
    if (link != null) {
      link.close().subscribe();
    }
    channels.values().forEach(channel -> channel.close().subscribe());
  }
}
