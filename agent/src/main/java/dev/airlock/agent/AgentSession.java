package dev.airlock.agent;

import dev.airlock.peer.DtlsIdentity;
import dev.airlock.peer.PeerLink;
import dev.airlock.peer.RelayChannels;
import dev.airlock.peer.ScreenStats;
import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.RelayFrame;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SdpType;
import dev.airlock.protocol.message.SignalMessage;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One session a client opened to this agent: the answering peer connection (with the agent's pinned
 * DTLS certificate, and the screen as a video track when the offer asks for video) until the client
 * asks for the relay, then relayed channels. Counts the bytes and logs them when it ends.
 */
final class AgentSession {

  private static final Logger log = LoggerFactory.getLogger(AgentSession.class);

  /** How often the screen's sending figures are read (the last reading is logged at the end). */
  private static final Duration VIDEO_READING = Duration.ofSeconds(5);

  private final UUID id;
  private final SignalSocket socket;
  private final Consumer<SignalMessage> toNode;
  private final ChannelServices services;
  private final RemoteView view;
  private final Consumer<UUID> endedByAgent;
  private volatile Runnable screenLease;
  private final long startedAt = System.nanoTime();
  private final AtomicLong relayedIn = new AtomicLong();
  private final AtomicLong relayedOut = new AtomicLong();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final Mono<PeerLink> link;
  private volatile PeerLink createdLink;
  private volatile RelayChannels relay;
  private volatile String path = "p2p";
  private volatile Disposable videoReadings;
  private volatile VideoReading lastVideo;

  private record VideoReading(ScreenStats stats, long at) {}

  AgentSession(
      SignalMessage open,
      SignalSocket socket,
      DtlsIdentity dtls,
      ChannelServices services,
      Consumer<UUID> endedByAgent) {
    this(open, socket::send, socket, dtls, services, endedByAgent);
  }

  /**
   * A session whose signal messages go to {@code toNode}; without a {@code socket} (null) it cannot
   * switch to the relay. {@code endedByAgent} learns of the sessions the agent ends itself.
   */
  AgentSession(
      SignalMessage open,
      Consumer<SignalMessage> toNode,
      SignalSocket socket,
      DtlsIdentity dtls,
      ChannelServices services,
      Consumer<UUID> endedByAgent) {
    this.id = open.getSessionId();
    this.socket = socket;
    this.toNode = toNode;
    this.services = services;
    this.endedByAgent = endedByAgent;
    this.view = services.open(open, toNode, this::endByAgent);
    boolean relayOnly = open.getTransport() == SignalMessage.TransportEnum.RELAY;
    this.link =
        relayOnly
            ? Mono.error(new IllegalStateException("session " + id + " is relay-only"))
            : PeerLink.answerer(
                    open.getIceServers(),
                    dtls,
                    services.display() == null ? null : services.display().screen().source())
                .doOnNext(this::started)
                .cache();
    log.info(
        "Session {} opened: mode {}, transport {}",
        id,
        open.getMode(),
        open.getTransport() == null ? "auto" : open.getTransport());
    if (!relayOnly) {
      link.subscribe(
          created -> {},
          error -> log.warn("Session {}: no peer connection: {}", id, error.toString()));
    }
  }

  private void started(PeerLink created) {
    createdLink = created;
    if (ended.get()) {
      created.close().subscribe();
      return;
    }
    created.remotelyOpened().subscribe(channel -> services.serve(view, channel, "p2p"));
    created
        .localCandidates()
        .subscribe(
            candidate ->
                toNode.accept(
                    new SignalMessage()
                        .type(MessageType.ICE)
                        .sessionId(id)
                        .candidate(candidate.candidate())
                        .sdpMid(candidate.sdpMid())
                        .sdpMLineIndex(candidate.sdpMLineIndex())),
            error -> {},
            () ->
                toNode.accept(
                    new SignalMessage().type(MessageType.ICE).sessionId(id).candidate("")));
    created
        .connected()
        .timeout(Duration.ofSeconds(60))
        .subscribe(
            done -> log.info("Session {}: peer to peer connected", id),
            error -> log.debug("Session {}: peer to peer not connected: {}", id, error.toString()));
  }

  UUID id() {
    return id;
  }

  /** Handles an sdp, ice or relay message of this session. */
  void onMessage(SignalMessage message) {
    switch (message.getType()) {
      case SDP -> {
        if (message.getSdpType() != SdpType.OFFER || message.getSdp() == null) {
          log.warn("Session {}: ignoring an sdp that is not an offer", id);
          return;
        }
        link.flatMap(created -> created.answer(message.getSdp()).doOnNext(sdp -> video(created)))
            .subscribe(
                answer ->
                    toNode.accept(
                        new SignalMessage()
                            .type(MessageType.SDP)
                            .sessionId(id)
                            .sdpType(SdpType.ANSWER)
                            .sdp(answer)),
                error -> log.warn("Session {}: cannot answer the offer: {}", id, error.toString()));
      }
      case ICE ->
          link.subscribe(
              created ->
                  created.addRemoteCandidate(
                      new PeerLink.IceCandidate(
                          message.getSdpMid(),
                          message.getSdpMLineIndex() == null ? 0 : message.getSdpMLineIndex(),
                          message.getCandidate())),
              error -> {});
      case RELAY -> switchToRelay();
      default -> log.debug("Session {}: ignoring {}", id, message.getType());
    }
  }

  private void video(PeerLink created) {
    if (!created.sendsVideo() || services.display() == null) {
      return;
    }
    synchronized (this) {
      if (screenLease != null || ended.get()) {
        return;
      }
      screenLease = services.display().screen().start();
      // The screen's figures, read now and then: at the end the connection may be gone already.
      videoReadings =
          Flux.interval(VIDEO_READING, VIDEO_READING)
              .concatMap(tick -> created.screenStats())
              .subscribe(stats -> lastVideo = new VideoReading(stats, System.nanoTime()));
    }
  }

  private synchronized void switchToRelay() {
    if (relay != null || ended.get()) {
      return;
    }
    if (socket == null) {
      log.warn("Session {}: no signal socket; cannot switch to the relay", id);
      return;
    }
    path = "relay";
    relay = new RelayChannels(socket, id, relayedIn, relayedOut);
    relay.remotelyOpened().subscribe(channel -> services.serve(view, channel, "relay"));
    log.info("Session {}: switched to the relay", id);
    PeerLink current = createdLink;
    if (current != null) {
      current.close().subscribe();
    }
  }

  /** Handles a relay frame of this session. */
  void onRelayFrame(RelayFrame frame) {
    RelayChannels current = relay;
    if (current != null) {
      current.accept(frame);
    }
  }

  /** Ends the session from the agent's side: tells the node, then tears it down. */
  private void endByAgent(String reason) {
    if (ended.get()) {
      return;
    }
    toNode.accept(new SignalMessage().type(MessageType.SESSION_CLOSE).sessionId(id).reason(reason));
    end(reason);
    endedByAgent.accept(id);
  }

  /** Tears the session down (idempotent) and logs its figures. */
  void end(String reason) {
    if (!ended.compareAndSet(false, true)) {
      return;
    }
    view.close();
    Runnable lease;
    synchronized (this) {
      lease = screenLease;
      screenLease = null;
    }
    if (lease != null) {
      lease.run();
    }
    Disposable readings = videoReadings;
    if (readings != null) {
      readings.dispose();
    }
    VideoReading video = lastVideo;
    if (video != null) {
      logVideo(video);
    }
    RelayChannels current = relay;
    if (current != null) {
      current.close();
    }
    PeerLink peer = createdLink;
    long in = relayedIn.get() + (peer == null ? 0 : peer.bytesIn());
    long out = relayedOut.get() + (peer == null ? 0 : peer.bytesOut());
    if (peer != null) {
      peer.close().subscribe();
    }
    log.info(
        "Session {} ended ({}): path {}, {} bytes in, {} bytes out, {} s",
        id,
        reason,
        path,
        in,
        out,
        Duration.ofNanos(System.nanoTime() - startedAt).toSeconds());
  }

  /**
   * One line on what the screen track sent, for an operator asking why a view was choppy: the
   * frames the capture gave against those sent, and what held the encoder back.
   */
  private void logVideo(VideoReading reading) {
    ScreenStats stats = reading.stats();
    double seconds = (reading.at() - startedAt) / 1e9;
    log.info(
        "Session {} video, in its first {} s: {} frames captured, {} sent ({} fps), {}x{}, {} MB,"
            + " encoder target {} Mb/s, limited by {}",
        id,
        Math.round(seconds),
        stats.captured(),
        stats.sent(),
        String.format(Locale.ROOT, "%.1f", stats.sent() / Math.max(seconds, 1)),
        stats.width(),
        stats.height(),
        String.format(Locale.ROOT, "%.1f", stats.bytesSent() / 1e6),
        String.format(Locale.ROOT, "%.1f", stats.targetBitrate() / 1e6),
        stats.limitation());
  }
}
