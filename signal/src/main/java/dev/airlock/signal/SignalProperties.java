package dev.airlock.signal;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The signal node's settings ({@code airlock.signal.*}, or the matching {@code AIRLOCK_SIGNAL_*}
 * environment variables). {@link #toString()} never shows the platform key.
 *
 * @param nodeId this node's id at the platform; empty means {@code <hostname>-<server.port>}
 * @param publicUrl the {@code ws://} or {@code wss://} base URL clients and agents reach this node
 *     at (default {@code ws://localhost:${server.port}})
 * @param adminUrl where the platform reaches this node's admin API (default {@code
 *     http://localhost:${server.port}})
 * @param platformUrl the platform's base URL
 * @param platformKey an API key ({@code alk_…}) of a user with role {@code signal-node}
 * @param platformKeyFile a file holding that key, read once at start (instead of {@code
 *     platformKey})
 * @param issuer the {@code iss} of the platform's tokens
 * @param heartbeat how often agents must send a heartbeat (told to them in {@code welcome})
 * @param agentSilenceLimit an agent silent for longer is disconnected
 * @param helloTimeout a socket that has not said {@code hello} by then is closed
 * @param maxSessionsPerAgent the most live sessions one agent holds
 */
@ConfigurationProperties("airlock.signal")
public record SignalProperties(
    @DefaultValue("") String nodeId,
    @DefaultValue("ws://localhost:8081") String publicUrl,
    @DefaultValue("http://localhost:8081") String adminUrl,
    @DefaultValue("http://localhost:8080") String platformUrl,
    @DefaultValue("") String platformKey,
    Path platformKeyFile,
    @DefaultValue("airlock") String issuer,
    @DefaultValue("20s") Duration heartbeat,
    @DefaultValue("60s") Duration agentSilenceLimit,
    @DefaultValue("10s") Duration helloTimeout,
    @DefaultValue("64") int maxSessionsPerAgent) {

  public SignalProperties {
    if (!publicUrl.matches("^wss?://.+")) {
      throw new IllegalArgumentException(
          "airlock.signal.public-url: " + publicUrl + " (expected: a ws:// or wss:// URL)");
    }
    if (!adminUrl.matches("^https?://.+")) {
      throw new IllegalArgumentException(
          "airlock.signal.admin-url: " + adminUrl + " (expected: an http:// or https:// URL)");
    }
    positive("heartbeat", heartbeat);
    positive("agent-silence-limit", agentSilenceLimit);
    positive("hello-timeout", helloTimeout);
    if (maxSessionsPerAgent < 1) {
      throw new IllegalArgumentException(
          "airlock.signal.max-sessions-per-agent: " + maxSessionsPerAgent + " (expected: >= 1)");
    }
    publicUrl = stripSlash(publicUrl);
    adminUrl = stripSlash(adminUrl);
  }

  private static void positive(String name, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          "airlock.signal." + name + ": " + value + " (expected: a positive duration)");
    }
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  @Override
  public String toString() {
    // The record's own toString would print the platform key.
    return "SignalProperties[nodeId="
        + nodeId
        + ", publicUrl="
        + publicUrl
        + ", adminUrl="
        + adminUrl
        + ", platformUrl="
        + platformUrl
        + ", platformKey="
        + (platformKey.isEmpty() ? "" : "(set)")
        + ", platformKeyFile="
        + platformKeyFile
        + "]";
  }
}
