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
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.SetSessionDescriptionObserver;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 */
public final class PeerLink {

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
  private boolean remoteDescriptionSet;
  private RTCPeerConnection connection;

  private PeerLink() {}

  /**
   * Creates the offering side with data channels for {@code labels}.
   *
   * @param identity the DTLS certificate to present, or {@code null} for a fresh one
   */
  public static Mono<PeerLink> offerer(
      List<IceServerConfig> iceServers, DtlsIdentity identity, List<String> labels) {
    return create(iceServers, identity, labels);
  }

  /** Creates the answering side, which presents {@code identity} (the agent's, pinned). */
  public static Mono<PeerLink> answerer(List<IceServerConfig> iceServers, DtlsIdentity identity) {
    return create(iceServers, identity, List.of());
  }

  private static Mono<PeerLink> create(
      List<IceServerConfig> iceServers, DtlsIdentity identity, List<String> labels) {
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
    PeerLink link = new PeerLink();
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
                    }
                    sink.success(link);
                  } catch (RuntimeException e) {
                    sink.error(e);
                  }
                }));
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
   * Applies the other side's offer, creates the answer and sets it as the local description; emits
   * the answer's SDP.
   */
  public Mono<String> answer(String offerSdp) {
    return setRemote(new RTCSessionDescription(RTCSdpType.OFFER, offerSdp))
        .then(
            Mono.<RTCSessionDescription>create(
                sink ->
                    connection().createAnswer(new RTCAnswerOptions(), descriptionObserver(sink))))
        .flatMap(this::setLocal);
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
    remotelyOpened.tryEmitComplete();
    candidates.tryEmitComplete();
    open.forEach(WebRtcChannel::dispose);
    return Mono.create(
        sink ->
            WebRtcRuntime.execute(
                () -> {
                  try {
                    RTCPeerConnection current = connection;
                    if (current != null) {
                      WebRtcRuntime.close(current);
                    }
                  } finally {
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
