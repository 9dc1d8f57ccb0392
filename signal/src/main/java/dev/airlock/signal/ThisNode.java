package dev.airlock.signal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Who this signal node is: its id at the platform and the URLs it registers, resolved once at start
 * from {@link SignalProperties}.
 */
@Component
public class ThisNode {

  private final String id;
  private final SignalProperties properties;

  public ThisNode(SignalProperties properties, Environment environment) {
    this.properties = properties;
    this.id =
        properties.nodeId().isBlank()
            ? hostname() + "-" + environment.getProperty("server.port", "8081")
            : properties.nodeId().strip();
  }

  /** The node id, as in the {@code nod} claim of tokens meant for this node. */
  public String id() {
    return id;
  }

  /** The {@code ws(s)://} base URL clients and agents use. */
  public String publicUrl() {
    return properties.publicUrl();
  }

  /** Where the platform reaches the admin API. */
  public String adminUrl() {
    return properties.adminUrl();
  }

  /** The {@code iss} of the platform's tokens. */
  public String issuer() {
    return properties.issuer();
  }

  public Duration heartbeat() {
    return properties.heartbeat();
  }

  public Duration agentSilenceLimit() {
    return properties.agentSilenceLimit();
  }

  public Duration helloTimeout() {
    return properties.helloTimeout();
  }

  public int maxSessionsPerAgent() {
    return properties.maxSessionsPerAgent();
  }

  private static String hostname() {
    // Resolved once on the main thread at start, never on an event loop.
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "signal";
    }
  }
}
