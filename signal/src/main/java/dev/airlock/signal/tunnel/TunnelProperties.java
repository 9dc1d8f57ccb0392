package dev.airlock.signal.tunnel;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The tunnel endpoint's settings ({@code airlock.signal.tunnel.*}, or {@code
 * AIRLOCK_SIGNAL_TUNNEL_*}).
 *
 * @param port the port edge-node agents dial (HTTP/2); 0 picks a free one, -1 turns tunnels off
 * @param host the address to listen on
 * @param publicUrl the {@code https://} (or {@code http://} behind a TLS front) URL agents are told
 *     to dial; empty means {@code http(s)://localhost:<port>}
 * @param tlsCertFile the PEM certificate chain the endpoint presents; with {@code tlsKeyFile} turns
 *     TLS on (without them the endpoint speaks cleartext HTTP/2 and says so at start)
 * @param tlsKeyFile the PEM private key (PKCS#8) of that certificate
 * @param maxStreamsPerNode the most tunnel streams one edge node holds at a time
 * @param streamOpenTimeout how long the node's agent has to open a stream after {@code tunnel.open}
 */
@ConfigurationProperties("airlock.signal.tunnel")
public record TunnelProperties(
    @DefaultValue("8082") int port,
    @DefaultValue("0.0.0.0") String host,
    @DefaultValue("") String publicUrl,
    Path tlsCertFile,
    Path tlsKeyFile,
    @DefaultValue("4096") int maxStreamsPerNode,
    @DefaultValue("10s") Duration streamOpenTimeout) {

  public TunnelProperties {
    if (port < -1 || port > 65535) {
      throw new IllegalArgumentException(
          "airlock.signal.tunnel.port: " + port + " (expected: 1..65535, 0 for any, -1 for off)");
    }
    if ((tlsCertFile == null) != (tlsKeyFile == null)) {
      throw new IllegalArgumentException(
          "airlock.signal.tunnel.tls-cert-file and tls-key-file: only one is set (expected: both"
              + " for TLS, neither for cleartext behind a TLS front)");
    }
    if (!publicUrl.isEmpty() && !publicUrl.matches("^https?://[^/]+/?$")) {
      throw new IllegalArgumentException(
          "airlock.signal.tunnel.public-url: "
              + publicUrl
              + " (expected: https://HOST:PORT, or http:// behind a TLS front)");
    }
    if (maxStreamsPerNode < 1) {
      throw new IllegalArgumentException(
          "airlock.signal.tunnel.max-streams-per-node: " + maxStreamsPerNode + " (expected: >= 1)");
    }
    if (streamOpenTimeout.isNegative() || streamOpenTimeout.isZero()) {
      throw new IllegalArgumentException(
          "airlock.signal.tunnel.stream-open-timeout: "
              + streamOpenTimeout
              + " (expected: a positive duration)");
    }
    publicUrl =
        publicUrl.endsWith("/") ? publicUrl.substring(0, publicUrl.length() - 1) : publicUrl;
  }

  /** Whether tunnels are on. */
  public boolean enabled() {
    return port >= 0;
  }

  /** Whether the endpoint terminates TLS itself. */
  public boolean tls() {
    return tlsCertFile != null;
  }
}
