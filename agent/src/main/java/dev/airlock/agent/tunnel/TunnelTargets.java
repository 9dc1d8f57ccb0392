package dev.airlock.agent.tunnel;

import dev.airlock.protocol.message.TunnelTarget;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What an edge node exposes through its tunnel, from the agent's {@code ssh}, {@code apps} and
 * {@code tcp} settings; nothing else on the machine or its network is reachable. Names are what
 * users ask for ({@code ssh}, {@code app:NAME}, {@code tcp:PORT}); the addresses stay here.
 */
public final class TunnelTargets {

  /** One declared target. */
  public record Target(
      String name, TunnelTarget.KindEnum kind, String host, int port, String description) {

    /** Where the agent connects, for messages. */
    public String address() {
      return host + ":" + port;
    }

    TunnelTarget wire() {
      return new TunnelTarget().name(name).kind(kind).description(description);
    }
  }

  private static final Pattern HOST_PORT =
      Pattern.compile("^(?:(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+):)?([0-9]{1,5})$");
  private static final Pattern APP =
      Pattern.compile(
          "^([a-z0-9][a-z0-9-]{0,62})=(https?)://(\\[[0-9a-fA-F:]+\\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?/?$");

  private static final TunnelTargets NONE = new TunnelTargets(Map.of());

  private final Map<String, Target> byName;

  private TunnelTargets(Map<String, Target> byName) {
    this.byName = byName;
  }

  /** No targets (a desktop or container agent). */
  public static TunnelTargets none() {
    return NONE;
  }

  /**
   * Reads the settings; each may be null.
   *
   * @param ssh {@code PORT} or {@code HOST:PORT} of the SSH server (e.g. {@code 22})
   * @param apps comma-separated {@code NAME=http://HOST:PORT} or {@code NAME=https://HOST:PORT}
   * @param tcp comma-separated {@code PORT} or {@code HOST:PORT} (e.g. a Kubernetes API, {@code
   *     6443}); each is named {@code tcp:PORT}
   * @throws IllegalArgumentException saying which setting is wrong and what was expected
   */
  public static TunnelTargets parse(String ssh, String apps, String tcp) {
    Map<String, Target> targets = new LinkedHashMap<>();
    if (present(ssh)) {
      Target target = hostPort("ssh", ssh.strip(), "ssh", TunnelTarget.KindEnum.SSH, "SSH");
      targets.put(target.name(), target);
    }
    if (present(apps)) {
      for (String entry : apps.split(",")) {
        Matcher app = APP.matcher(entry.strip());
        if (!app.matches()) {
          throw new IllegalArgumentException(
              "apps: "
                  + entry.strip()
                  + " (expected: NAME=http://HOST:PORT or NAME=https://HOST:PORT, NAME in lower"
                  + " case letters, digits and dashes, separated by commas)");
        }
        String scheme = app.group(2);
        int port =
            app.group(4) == null
                ? (scheme.equals("https") ? 443 : 80)
                : port("apps", entry.strip(), app.group(4));
        add(
            targets,
            "apps",
            new Target(
                "app:" + app.group(1),
                TunnelTarget.KindEnum.APP,
                unbracket(app.group(3)),
                port,
                scheme));
      }
    }
    if (present(tcp)) {
      for (String entry : tcp.split(",")) {
        Target target = hostPort("tcp", entry.strip(), null, TunnelTarget.KindEnum.TCP, "TCP port");
        add(targets, "tcp", target);
      }
    }
    return new TunnelTargets(Collections.unmodifiableMap(targets));
  }

  private static void add(Map<String, Target> targets, String setting, Target target) {
    if (targets.putIfAbsent(target.name(), target) != null) {
      throw new IllegalArgumentException(
          setting + ": " + target.name() + " is declared twice (expected: each name once)");
    }
  }

  private static Target hostPort(
      String setting, String value, String name, TunnelTarget.KindEnum kind, String what) {
    Matcher matcher = HOST_PORT.matcher(value);
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          setting + ": " + value + " (expected: PORT or HOST:PORT, e.g. 22 or 10.0.0.5:22)");
    }
    int port = port(setting, value, matcher.group(2));
    String host = matcher.group(1) == null ? "127.0.0.1" : unbracket(matcher.group(1));
    return new Target(name != null ? name : "tcp:" + port, kind, host, port, what);
  }

  private static int port(String setting, String value, String digits) {
    int port = Integer.parseInt(digits);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          setting + ": " + value + " (expected: a port in 1..65535)");
    }
    return port;
  }

  private static String unbracket(String host) {
    return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
  }

  private static boolean present(String value) {
    return value != null && !value.isBlank();
  }

  /** The target called {@code name}, or null when this node does not declare it. */
  public Target get(String name) {
    return name == null ? null : byName.get(name);
  }

  public boolean isEmpty() {
    return byName.isEmpty();
  }

  public Collection<Target> all() {
    return byName.values();
  }

  /** The targets as {@code hello} lists them: names and kinds, never addresses. */
  public List<TunnelTarget> wire() {
    return byName.values().stream().map(Target::wire).toList();
  }

  @Override
  public String toString() {
    return byName.values().stream().map(t -> t.name() + "=" + t.address()).toList().toString();
  }
}
