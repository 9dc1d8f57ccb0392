package dev.airlock.peer;

import dev.airlock.protocol.message.IceServerConfig;
import dev.onvoid.webrtc.CreateSessionDescriptionObserver;
import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCAnswerOptions;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCIceGatheringState;
import dev.onvoid.webrtc.RTCIceServer;
import dev.onvoid.webrtc.RTCOfferOptions;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCRtpEncodingParameters;
import dev.onvoid.webrtc.RTCRtpSendParameters;
import dev.onvoid.webrtc.RTCRtpSender;
import dev.onvoid.webrtc.RTCRtpTransceiver;
import dev.onvoid.webrtc.RTCRtpTransceiverDirection;
import dev.onvoid.webrtc.RTCRtpTransceiverInit;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.RTCStats;
import dev.onvoid.webrtc.RTCStatsReport;
import dev.onvoid.webrtc.RTCStatsType;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import dev.onvoid.webrtc.media.FourCC;
import dev.onvoid.webrtc.media.MediaStreamTrack;
import dev.onvoid.webrtc.media.video.CustomVideoSource;
import dev.onvoid.webrtc.media.video.VideoBufferConverter;
import dev.onvoid.webrtc.media.video.VideoFrame;
import dev.onvoid.webrtc.media.video.VideoTrack;
import dev.onvoid.webrtc.media.video.VideoTrackSink;
import dev.onvoid.webrtc.media.video.VideoTrackSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * One WebRTC peer connection of a session, offerer (the client) or answerer (the agent), with its
 * data channels as {@link Channel}s.
 *
 * <p>The offerer declares its channels up front ({@link #offerer}); they are negotiated in the
 * offer, so none can be added later without renegotiation. The answerer learns them from {@link
 * #remotelyOpened()}. SDP goes out through {@link #createOffer()} or {@link #answer(String)},
 * candidates through {@link #localCandidates()}; the other side's arrive through {@link
 * #acceptAnswer(String)} and {@link #addRemoteCandidate(IceCandidate)} (candidates that come before
 * the remote description are held until it is set). {@link #connected()} completes when the
 * connection is {@code CONNECTED} and fails when it fails or closes first. {@link #close()} is
 * idempotent and frees the native objects in the order libwebrtc needs.
 *
 * <p>Video (the agent's screen, see docs/remote-view.md): an offerer made with {@code receiveVideo}
 * offers one {@code recvonly} video m-line and publishes what it decodes through {@link
 * #videoFrames(boolean)}; an answerer made with a screen source attaches a track of that source to
 * the offer's video m-line, if it has one (the answer is then {@code sendonly}, see {@link
 * #sendsVideo()}), capped at {@link #MAX_VIDEO_BITRATE}. libwebrtc adapts frame rate and resolution
 * to the path with its default degradation preference for a non-screencast source, {@code
 * balanced}: webrtc-java 0.14 exposes neither the degradation preference nor a content hint.
 */
public final class PeerLink {

  /**
   * The highest bitrate the screen track is encoded at, in bits per second: a ceiling for a LAN,
   * where a page that scrolls all the time needs about this much for 25-30 fps at 720p (at 4 Mb/s
   * libwebrtc held it to 10 fps); on a slower path the bandwidth estimate sets the rate.
   */
  public static final int MAX_VIDEO_BITRATE = 20_000_000;

  /** The highest frame rate the screen track is encoded at. */
  public static final double MAX_VIDEO_FRAMERATE = 30;

  /**
   * The stream id of the screen track (what a browser's {@code ontrack} sees in {@code streams}).
   */
  public static final String SCREEN_STREAM = "airlock-screen";

  private static final Logger log = LoggerFactory.getLogger(PeerLink.class);

  /**
   * A decoded video frame, copied out of libwebrtc's buffer (which is only valid during its
   * callback).
   *
   * @param argb the pixels, 4 bytes each, row after row without padding, in libyuv's ARGB order
   *     (bytes B, G, R, A in memory); null when the frames were asked for without pixels
   */
  public record ReceivedFrame(int width, int height, long timestampNs, byte[] argb) {

    /** The colour at {@code (x, y)} as {@code 0xRRGGBB}; needs the pixels. */
    public int rgb(int x, int y) {
      int i = (y * width + x) * 4;
      return (argb[i + 2] & 0xff) << 16 | (argb[i + 1] & 0xff) << 8 | (argb[i] & 0xff);
    }
  }

  /** An ICE candidate line and the media section it belongs to. */
  public record IceCandidate(String sdpMid, int sdpMLineIndex, String candidate) {}

  /** The connection failed or closed before it connected. */
  public static final class PeerConnectionFailedException extends RuntimeException {
    PeerConnectionFailedException(String message) {
      super(message);
    }
  }

  private final AtomicLong bytesIn = new AtomicLong();
  private final AtomicLong bytesOut = new AtomicLong();
  private final Sinks.Many<IceCandidate> candidates = Sinks.many().replay().all();
  private final Sinks.Empty<Void> connected = Sinks.empty();
  private final Sinks.Empty<Void> ended = Sinks.empty();
  private final Sinks.Many<Channel> remotelyOpened = Sinks.many().unicast().onBackpressureBuffer();
  private final Map<String, WebRtcChannel> channels = new LinkedHashMap<>();
  private final List<RTCIceCandidate> pendingCandidates = new ArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Sinks.Many<ReceivedFrame> frames = Sinks.many().multicast().directBestEffort();
  private final Sinks.Many<ReceivedFrame> pixelFrames = Sinks.many().multicast().directBestEffort();
  private final List<VideoTrack> localTracks = new ArrayList<>();
  private final List<VideoTrack> remoteTracks = new ArrayList<>();
  private final VideoTrackSink videoSink = this::onVideoFrame;
  private final VideoTrackSource screen;
  private CustomVideoSource placeholder;
  private RTCRtpSender screenSender;
  private volatile boolean sendsVideo;
  private boolean remoteDescriptionSet;
  private RTCPeerConnection connection;

  private PeerLink(VideoTrackSource screen) {
    this.screen = screen;
  }

  /**
   * Creates the offering side with data channels for {@code labels}.
   *
   * @param identity the DTLS certificate to present, or {@code null} for a fresh one
   */
  public static Mono<PeerLink> offerer(
      List<IceServerConfig> iceServers, DtlsIdentity identity, List<String> labels) {
    return create(iceServers, identity, labels, false, null);
  }

  /**
   * Creates the offering side with data channels for {@code labels} and, when {@code receiveVideo},
   * one {@code recvonly} video m-line whose frames arrive on {@link #videoFrames(boolean)}.
   *
   * @param identity the DTLS certificate to present, or {@code null} for a fresh one
   */
  public static Mono<PeerLink> offerer(
      List<IceServerConfig> iceServers,
      DtlsIdentity identity,
      List<String> labels,
      boolean receiveVideo) {
    return create(iceServers, identity, labels, receiveVideo, null);
  }

  /** Creates the answering side, which presents {@code identity} (the agent's, pinned). */
  public static Mono<PeerLink> answerer(List<IceServerConfig> iceServers, DtlsIdentity identity) {
    return create(iceServers, identity, List.of(), false, null);
  }

  /**
   * Creates the answering side, which presents {@code identity} and sends a track of {@code screen}
   * on the offer's video m-line, if the offer has one. The source stays the caller's: it is not
   * disposed with this link, and several links may share it.
   */
  public static Mono<PeerLink> answerer(
      List<IceServerConfig> iceServers, DtlsIdentity identity, VideoTrackSource screen) {
    return create(iceServers, identity, List.of(), false, screen);
  }

  private static Mono<PeerLink> create(
      List<IceServerConfig> iceServers,
      DtlsIdentity identity,
      List<String> labels,
      boolean receiveVideo,
      VideoTrackSource screen) {
    RTCConfiguration configuration = new RTCConfiguration();
    if (iceServers != null) {
      for (IceServerConfig server : iceServers) {
        RTCIceServer ice = new RTCIceServer();
        ice.urls = new ArrayList<>(server.getUrls());
        ice.username = server.getUsername();
        ice.password = server.getCredential();
        configuration.iceServers.add(ice);
      }
    }
    if (identity != null) {
      configuration.certificates.addAll(identity.certificates());
    }
    PeerLink link = new PeerLink(screen);
    return Mono.create(
        sink ->
            WebRtcRuntime.execute(
                () -> {
                  try {
                    RTCPeerConnection connection =
                        WebRtcRuntime.create(configuration, link.observer());
                    synchronized (link) {
                      link.connection = connection;
                      for (String label : labels) {
                        RTCDataChannel channel =
                            connection.createDataChannel(label, new RTCDataChannelInit());
                        link.channels.put(
                            label, new WebRtcChannel(channel, link.bytesIn, link.bytesOut));
                      }
                      if (receiveVideo) {
                        link.addReceivingTransceiver(connection);
                      }
                    }
                    sink.success(link);
                  } catch (RuntimeException e) {
                    sink.error(e);
                  }
                }));
  }

  /**
   * webrtc-java 0.14 has no {@code addTransceiver(kind)}: a transceiver needs a track, so a track
   * of a source that never produces a frame stands in; {@code recvonly} never sends it anyway.
   */
  private void addReceivingTransceiver(RTCPeerConnection created) {
    placeholder = new CustomVideoSource();
    VideoTrack track = WebRtcRuntime.createVideoTrack("airlock-receive", placeholder);
    localTracks.add(track);
    RTCRtpTransceiverInit init = new RTCRtpTransceiverInit();
    init.direction = RTCRtpTransceiverDirection.RECV_ONLY;
    created.addTransceiver(track, init);
  }

  private PeerConnectionObserver observer() {
    return new PeerConnectionObserver() {
      @Override
      public void onIceCandidate(RTCIceCandidate candidate) {
        candidates.tryEmitNext(
            new IceCandidate(candidate.sdpMid, candidate.sdpMLineIndex, candidate.sdp));
      }

      @Override
      public void onIceGatheringChange(RTCIceGatheringState state) {
        if (state == RTCIceGatheringState.COMPLETE) {
          candidates.tryEmitComplete();
        }
      }

      @Override
      public void onConnectionChange(RTCPeerConnectionState state) {
        switch (state) {
          case CONNECTED -> connected.tryEmitEmpty();
          case FAILED, CLOSED -> {
            connected.tryEmitError(
                new PeerConnectionFailedException(
                    "peer connection " + state.name().toLowerCase() + " before it connected"));
            ended.tryEmitEmpty();
          }
          default -> {}
        }
      }

      @Override
      public void onTrack(RTCRtpTransceiver transceiver) {
        MediaStreamTrack track = transceiver.getReceiver().getTrack();
        if (track instanceof VideoTrack video) {
          synchronized (PeerLink.this) {
            if (closed.get()) {
              return;
            }
            remoteTracks.add(video);
          }
          video.addSink(videoSink);
        }
      }

      @Override
      public void onDataChannel(RTCDataChannel channel) {
        // Registered here, in the callback, so that no early message is lost.
        WebRtcChannel wrapped = new WebRtcChannel(channel, bytesIn, bytesOut);
        synchronized (PeerLink.this) {
          if (closed.get()) {
            wrapped.dispose();
            return;
          }
          channels.put(wrapped.label(), wrapped);
        }
        remotelyOpened.tryEmitNext(wrapped);
      }
    };
  }

  /** Creates the offer and sets it as the local description; emits its SDP. */
  public Mono<String> createOffer() {
    return Mono.<RTCSessionDescription>create(
            sink -> connection().createOffer(new RTCOfferOptions(), descriptionObserver(sink)))
        .flatMap(this::setLocal);
  }

  /**
   * Applies the other side's offer, attaches the screen track to its video m-line (when this
   * answerer has a screen source and the offer a video m-line), creates the answer and sets it as
   * the local description; emits the answer's SDP.
   */
  public Mono<String> answer(String offerSdp) {
    return setRemote(new RTCSessionDescription(RTCSdpType.OFFER, offerSdp))
        .then(onNativeThread(this::attachScreen))
        .then(
            Mono.<RTCSessionDescription>create(
                sink ->
                    connection().createAnswer(new RTCAnswerOptions(), descriptionObserver(sink))))
        .flatMap(this::setLocal)
        .flatMap(sdp -> onNativeThread(this::limitScreenEncoding).thenReturn(sdp));
  }

  /** Whether the answer sends the screen: the offer had a video m-line and a source was given. */
  public boolean sendsVideo() {
    return sendsVideo;
  }

  /**
   * The frames decoded from the other side's video (an offerer made with {@code receiveVideo}),
   * with their pixels copied out when {@code withPixels} (a conversion to ARGB per frame; ask
   * without them to count frames cheaply). Hot: a subscriber sees the frames that arrive after it
   * subscribed, on libwebrtc's decoding thread (keep the work short), and frames it is not ready
   * for are dropped, never queued. Completes when the link closes.
   */
  public Flux<ReceivedFrame> videoFrames(boolean withPixels) {
    return withPixels ? pixelFrames.asFlux() : frames.asFlux();
  }

  private void onVideoFrame(VideoFrame frame) {
    int width = frame.buffer.getWidth();
    int height = frame.buffer.getHeight();
    if (frames.currentSubscriberCount() > 0) {
      frames.tryEmitNext(new ReceivedFrame(width, height, frame.timestampNs, null));
    }
    if (pixelFrames.currentSubscriberCount() > 0) {
      byte[] argb = new byte[width * height * 4];
      try {
        VideoBufferConverter.convertFromI420(frame.buffer, argb, FourCC.ARGB);
        pixelFrames.tryEmitNext(new ReceivedFrame(width, height, frame.timestampNs, argb));
      } catch (Exception e) {
        log.warn("Cannot convert a received {}x{} frame to ARGB: {}", width, height, e.toString());
      }
    }
  }

  private Mono<Void> onNativeThread(Runnable task) {
    return Mono.create(
        sink ->
            WebRtcRuntime.execute(
                () -> {
                  try {
                    task.run();
                    sink.success();
                  } catch (RuntimeException e) {
                    sink.error(e);
                  }
                }));
  }

  private void attachScreen() {
    if (screen == null || sendsVideo) {
      return;
    }
    RTCPeerConnection current = connection();
    RTCRtpTransceiver video = null;
    for (RTCRtpTransceiver transceiver : current.getTransceivers()) {
      MediaStreamTrack receiving = transceiver.getReceiver().getTrack();
      if (receiving != null
          && MediaStreamTrack.VIDEO_TRACK_KIND.equals(receiving.getKind())
          && !transceiver.stopped()) {
        video = transceiver;
        break;
      }
    }
    if (video == null) {
      return;
    }
    VideoTrack track = WebRtcRuntime.createVideoTrack("airlock-screen", screen);
    synchronized (this) {
      localTracks.add(track);
    }
    // The offer's own transceiver, made explicit: the answer can only use m-lines the offer has,
    // and the stream id lets a browser find the track in ontrack's streams.
    RTCRtpSender sender = video.getSender();
    sender.replaceTrack(track);
    sender.setStreams(List.of(SCREEN_STREAM));
    video.setDirection(RTCRtpTransceiverDirection.SEND_ONLY);
    screenSender = sender;
    sendsVideo = true;
  }

  private void limitScreenEncoding() {
    RTCRtpSender sender = screenSender;
    if (sender == null || closed.get()) {
      return;
    }
    RTCRtpSendParameters parameters = sender.getParameters();
    if (parameters.encodings == null || parameters.encodings.isEmpty()) {
      return;
    }
    for (RTCRtpEncodingParameters encoding : parameters.encodings) {
      encoding.maxBitrate = MAX_VIDEO_BITRATE;
      encoding.maxFramerate = MAX_VIDEO_FRAMERATE;
    }
    try {
      sender.setParameters(parameters);
    } catch (RuntimeException e) {
      log.warn("Cannot cap the screen encoding: {}", e.toString());
    }
  }

  /**
   * What the screen track's encoder did so far, from libwebrtc's statistics ({@code media-source}
   * and {@code outbound-rtp}); empty when this side sends no video or is closed.
   */
  public Mono<ScreenStats> screenStats() {
    RTCRtpSender sender = screenSender;
    if (sender == null || closed.get()) {
      return Mono.empty();
    }
    return Mono.<RTCStatsReport>create(sink -> connection().getStats(sender, sink::success))
        .mapNotNull(ScreenStats::of);
  }

  /**
   * The received video's {@code inbound-rtp} statistics as libwebrtc reports them (frames decoded
   * and dropped, jitter-buffer delay, decode time, ...); empty when no video is received.
   */
  public Mono<Map<String, Object>> receivedVideoStats() {
    boolean receiving;
    synchronized (this) {
      receiving = !remoteTracks.isEmpty();
    }
    if (closed.get() || !receiving) {
      return Mono.empty();
    }
    return Mono.<RTCStatsReport>create(sink -> connection().getStats(sink::success))
        .mapNotNull(
            report ->
                report.getStats().values().stream()
                    .filter(stats -> stats.getType() == RTCStatsType.INBOUND_RTP)
                    .map(RTCStats::getAttributes)
                    .filter(attributes -> "video".equals(attributes.get("kind")))
                    .findFirst()
                    .orElse(null));
  }

  /** Applies the other side's answer (check its fingerprint first: {@link Sdp#fingerprint}). */
  public Mono<Void> acceptAnswer(String answerSdp) {
    return setRemote(new RTCSessionDescription(RTCSdpType.ANSWER, answerSdp));
  }

  private Mono<String> setLocal(RTCSessionDescription description) {
    return Mono.<Void>create(
            sink -> connection().setLocalDescription(description, setObserver(sink, "local")))
        .thenReturn(description.sdp);
  }

  private Mono<Void> setRemote(RTCSessionDescription description) {
    return Mono.<Void>create(
            sink -> connection().setRemoteDescription(description, setObserver(sink, "remote")))
        .doOnSuccess(
            done -> {
              List<RTCIceCandidate> held;
              synchronized (this) {
                remoteDescriptionSet = true;
                held = new ArrayList<>(pendingCandidates);
                pendingCandidates.clear();
              }
              held.forEach(candidate -> connection().addIceCandidate(candidate));
            });
  }

  /**
   * Adds a candidate of the other side; an empty candidate (the end of its candidates) is ignored.
   */
  public void addRemoteCandidate(IceCandidate candidate) {
    if (candidate.candidate() == null || candidate.candidate().isBlank() || closed.get()) {
      return;
    }
    RTCIceCandidate native_ =
        new RTCIceCandidate(candidate.sdpMid(), candidate.sdpMLineIndex(), candidate.candidate());
    synchronized (this) {
      if (!remoteDescriptionSet) {
        pendingCandidates.add(native_);
        return;
      }
    }
    connection().addIceCandidate(native_);
  }

  /** This side's candidates as they are gathered, from the start; completes when gathering ends. */
  public Flux<IceCandidate> localCandidates() {
    return candidates.asFlux();
  }

  /**
   * Completes when the connection is connected; fails with {@link PeerConnectionFailedException}
   * when it fails or closes first. The caller sets the timeout.
   */
  public Mono<Void> connected() {
    return connected.asMono();
  }

  /** Completes when the connection has failed or closed. */
  public Mono<Void> ended() {
    return ended.asMono();
  }

  /** The channel of {@code label}, declared by the offerer or opened by the other side. */
  public synchronized Channel channel(String label) {
    WebRtcChannel channel = channels.get(label);
    if (channel == null) {
      throw new IllegalArgumentException(
          "channel " + label + ": not negotiated (expected one of " + channels.keySet() + ")");
    }
    return channel;
  }

  /** The channels the other side opened (answerer), as they open; single subscriber. */
  public Flux<Channel> remotelyOpened() {
    return remotelyOpened.asFlux();
  }

  /** Payload bytes received on every channel so far. */
  public long bytesIn() {
    return bytesIn.get();
  }

  /** Payload bytes sent on every channel so far. */
  public long bytesOut() {
    return bytesOut.get();
  }

  /**
   * Closes the channels and the connection (idempotent); completes when the native objects are
   * freed.
   */
  public Mono<Void> close() {
    if (!closed.compareAndSet(false, true)) {
      return ended();
    }
    List<WebRtcChannel> open;
    synchronized (this) {
      open = new ArrayList<>(channels.values());
    }
    List<VideoTrack> receiving;
    synchronized (this) {
      receiving = new ArrayList<>(remoteTracks);
    }
    remotelyOpened.tryEmitComplete();
    candidates.tryEmitComplete();
    open.forEach(WebRtcChannel::dispose);
    return Mono.create(
        sink ->
            WebRtcRuntime.execute(
                () -> {
                  try {
                    RTCPeerConnection current = connection;
                    // No frame callback after this: the sink would outlive its link otherwise.
                    receiving.forEach(track -> track.removeSink(videoSink));
                    Runnable freeTracks =
                        () -> {
                          synchronized (PeerLink.this) {
                            localTracks.forEach(VideoTrack::dispose);
                            localTracks.clear();
                          }
                          if (placeholder != null) {
                            placeholder.dispose();
                          }
                        };
                    if (current != null) {
                      // After close() the senders no longer hold the tracks, and the factory
                      // (disposed with the last connection) still lives.
                      WebRtcRuntime.close(current, freeTracks);
                    } else {
                      freeTracks.run();
                    }
                  } finally {
                    frames.tryEmitComplete();
                    pixelFrames.tryEmitComplete();
                    connected.tryEmitError(new PeerConnectionFailedException("peer link closed"));
                    ended.tryEmitEmpty();
                    sink.success();
                  }
                }));
  }

  private synchronized RTCPeerConnection connection() {
    if (connection == null || closed.get()) {
      throw new IllegalStateException("peer link closed");
    }
    return connection;
  }

  private static CreateSessionDescriptionObserver descriptionObserver(
      MonoSink<RTCSessionDescription> sink) {
    return new CreateSessionDescriptionObserver() {
      @Override
      public void onSuccess(RTCSessionDescription description) {
        sink.success(description);
      }

      @Override
      public void onFailure(String error) {
        sink.error(new PeerConnectionFailedException("cannot create a description: " + error));
      }
    };
  }

  private static SetSessionDescriptionObserver setObserver(MonoSink<Void> sink, String which) {
    return new SetSessionDescriptionObserver() {
      @Override
      public void onSuccess() {
        sink.success();
      }

      @Override
      public void onFailure(String error) {
        sink.error(
            new PeerConnectionFailedException(
                "cannot set the " + which + " description: " + error));
      }
    };
  }
}
