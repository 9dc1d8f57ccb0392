package dev.airlock.sdk.connect;

import dev.airlock.sdk.model.SessionMode;
import dev.airlock.sdk.model.SessionTransport;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to open a remote session. Immutable; each {@code with…} returns a copy.
 *
 * <ul>
 *   <li>{@code mode}: {@code control} (default) or {@code view};
 *   <li>{@code transport}: {@code auto} (default: peer to peer, the relay when that fails) or
 *       {@code relay};
 *   <li>{@code channels}: the labels of the channels to open, default {@code [echo, info]}. They
 *       are negotiated with the peer connection, so {@link RemoteSession#channel(String)} knows
 *       only these;
 *   <li>{@code p2pTimeout}: how long to wait for the peer-to-peer connection before falling back to
 *       the relay, default 5 s (ICE on a LAN connects in well under a second; libwebrtc itself
 *       gives up only after 15 s);
 *   <li>{@code signalTimeout}: the limit for reaching the signal node and for its welcome, default
 *       10 s each;
 *   <li>{@code video}: receive the agent's screen as a video track ({@link
 *       RemoteSession#videoFrames(boolean)}), default off. Peer to peer only: the relay carries no
 *       video (see docs/remote-view.md).
 * </ul>
 */
public record ConnectOptions(
    SessionMode mode,
    SessionTransport transport,
    List<String> channels,
    Duration p2pTimeout,
    Duration signalTimeout,
    boolean video) {

  /** The channels opened by default. */
  public static final List<String> DEFAULT_CHANNELS = List.of("echo", "info");

  /** The default wait for peer to peer before the relay. */
  public static final Duration DEFAULT_P2P_TIMEOUT = Duration.ofSeconds(5);

  /** The default limit for each signalling step. */
  public static final Duration DEFAULT_SIGNAL_TIMEOUT = Duration.ofSeconds(10);

  public ConnectOptions {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(transport, "transport");
    channels = List.copyOf(channels);
    if (channels.isEmpty()
        || channels.stream()
            .anyMatch(
                label ->
                    label == null
                        || label.isEmpty()
                        || label.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 64)) {
      throw new IllegalArgumentException(
          "channels: " + channels + " (expected: at least one label of 1..64 bytes)");
    }
    if (channels.stream().distinct().count() != channels.size()) {
      throw new IllegalArgumentException("channels: " + channels + " (expected: distinct labels)");
    }
    positive("p2pTimeout", p2pTimeout);
    positive("signalTimeout", signalTimeout);
  }

  /** The defaults: control, auto, [echo, info], 5 s, 10 s, no video. */
  public static ConnectOptions defaults() {
    return new ConnectOptions(
        SessionMode.CONTROL,
        SessionTransport.AUTO,
        DEFAULT_CHANNELS,
        DEFAULT_P2P_TIMEOUT,
        DEFAULT_SIGNAL_TIMEOUT,
        false);
  }

  public ConnectOptions withMode(SessionMode mode) {
    return new ConnectOptions(mode, transport, channels, p2pTimeout, signalTimeout, video);
  }

  public ConnectOptions withTransport(SessionTransport transport) {
    return new ConnectOptions(mode, transport, channels, p2pTimeout, signalTimeout, video);
  }

  public ConnectOptions withChannels(List<String> channels) {
    return new ConnectOptions(mode, transport, channels, p2pTimeout, signalTimeout, video);
  }

  public ConnectOptions withP2pTimeout(Duration p2pTimeout) {
    return new ConnectOptions(mode, transport, channels, p2pTimeout, signalTimeout, video);
  }

  public ConnectOptions withSignalTimeout(Duration signalTimeout) {
    return new ConnectOptions(mode, transport, channels, p2pTimeout, signalTimeout, video);
  }

  public ConnectOptions withVideo(boolean video) {
    return new ConnectOptions(mode, transport, channels, p2pTimeout, signalTimeout, video);
  }

  private static void positive(String name, Duration value) {
    if (value == null || value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + ": " + value + " (expected: a positive duration)");
    }
  }
}
