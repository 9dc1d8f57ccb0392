package dev.airlock.agent;

import dev.airlock.agent.tunnel.TunnelTargets;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * The agent's settings. Each key comes from, in rising precedence: the properties file named by
 * {@code --config FILE}, an environment variable {@code AIRLOCK_AGENT_<KEY>} (upper case, dashes as
 * underscores), and an argument {@code --key=value}.
 *
 * @param signalUrl the {@code ws://} or {@code wss://} base URL of a signal node
 * @param joinToken the join token, used only for the first enrolment; may be null once enrolled
 * @param stateDir where the identity key, agent id and DTLS certificate live
 * @param hostname the name the agent reports at enrolment
 * @param caFile PEM certificates to trust for a {@code wss://} node instead of the JVM's trust
 *     store (a private CA, a self-signed node), or null
 * @param display the X display shown to viewers (e.g. {@code :0}; default {@code $DISPLAY}), or
 *     null for none ({@code none}): sessions then get no screen, input or clipboard
 * @param fps the frame rate the screen is captured at, 1..60 (default {@value #DEFAULT_FPS})
 * @param clipboard the most this agent lets a session do with the clipboard, whatever the platform
 *     allows (default both)
 * @param resize whether viewers may resize the display to their window (default false: a person's
 *     desktop keeps its resolution; the RBI image sets it for its Xvfb)
 * @param targets what an edge node exposes through its reverse tunnel (settings {@code ssh}, {@code
 *     apps}, {@code tcp}; see {@link TunnelTargets#parse}); none for other agents
 * @param leafUrl for a trusted cluster's link (enrolled in the root cluster with a join token of
 *     kind {@code cluster}): the {@code http(s)://} URL of this (leaf) cluster's own platform; null
 *     for other agents
 * @param leafApiKeyFile for a cluster link: the file holding the API key of the leaf's {@code
 *     airlock.trust.link-user}
 */
public record AgentConfig(
    URI signalUrl,
    String joinToken,
    Path stateDir,
    String hostname,
    Path caFile,
    String display,
    int fps,
    ClipboardPolicy clipboard,
    boolean resize,
    TunnelTargets targets,
    URI leafUrl,
    Path leafApiKeyFile) {

  /** The keys a file, the environment or the arguments may set. */
  public static final Set<String> KEYS =
      Set.of(
          "signal-url",
          "join-token",
          "state-dir",
          "hostname",
          "ca-file",
          "display",
          "fps",
          "clipboard",
          "resize",
          "ssh",
          "apps",
          "tcp",
          "leaf-url",
          "leaf-api-key-file");

  /** The capture frame rate when none is configured. */
  public static final int DEFAULT_FPS = 30;

  /** The state directory when none is configured. */
  public static final Path DEFAULT_STATE_DIR = Path.of("/var/lib/airlock-agent");

  /** The agent's endpoint below the signal URL. */
  public static final String AGENT_PATH = "/signal/v1/agent";

  /** The signal node's health endpoint, below the signal URL. */
  public static final String HEALTH_PATH = "/signal/v1/health";

  /** A setting is missing or malformed; the message says which and what was expected. */
  public static final class InvalidConfigException extends RuntimeException {
    InvalidConfigException(String message) {
      super(message);
    }
  }

  /**
   * Reads the settings from {@code args} ({@code --config FILE}, {@code --config=FILE}, {@code
   * --key=value}) and {@code environment}.
   *
   * @throws InvalidConfigException when an argument, key or value is not allowed
   */
  public static AgentConfig load(String[] args, Map<String, String> environment) {
    Map<String, String> fromArgs = new LinkedHashMap<>();
    Path file = null;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--config")) {
        if (i + 1 >= args.length) {
          throw new InvalidConfigException("--config: missing file (expected: --config FILE)");
        }
        file = Path.of(args[++i]);
      } else if (arg.startsWith("--config=")) {
        file = Path.of(arg.substring("--config=".length()));
      } else if (arg.startsWith("--") && arg.indexOf('=') > 2) {
        String key = arg.substring(2, arg.indexOf('='));
        fromArgs.put(known(key, "argument " + arg), arg.substring(arg.indexOf('=') + 1));
      } else {
        throw new InvalidConfigException(
            "argument "
                + arg
                + " (expected: --config FILE or --key=value with a key of "
                + KEYS
                + ")");
      }
    }
    Map<String, String> settings = new LinkedHashMap<>();
    if (file != null) {
      Properties properties = new Properties();
      try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        properties.load(reader);
      } catch (IOException e) {
        throw new UncheckedIOException("config file " + file + ": " + e.getMessage(), e);
      }
      for (String key : properties.stringPropertyNames()) {
        settings.put(known(key, "key " + key + " in " + file), properties.getProperty(key).strip());
      }
    }
    for (String key : KEYS) {
      String value = environment.get(environmentName(key));
      if (value != null && !value.isBlank()) {
        settings.put(key, value.strip());
      }
    }
    settings.putAll(fromArgs);
    String x = environment.get("DISPLAY");
    if (!settings.containsKey("display") && x != null && !x.isBlank()) {
      settings.put("display", x.strip());
    }
    return of(settings);
  }

  /** The environment variable that sets {@code key}. */
  public static String environmentName(String key) {
    return "AIRLOCK_AGENT_" + key.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  private static String known(String key, String where) {
    if (!KEYS.contains(key)) {
      throw new InvalidConfigException(
          where + ": unknown key " + key + " (expected one of " + KEYS + ")");
    }
    return key;
  }

  private static AgentConfig of(Map<String, String> settings) {
    String url = settings.get("signal-url");
    if (url == null || url.isBlank()) {
      throw new InvalidConfigException(
          "signal-url: missing (expected: the ws:// or wss:// URL of a signal node, in the config"
              + " file, "
              + environmentName("signal-url")
              + " or --signal-url=)");
    }
    URI signal;
    try {
      signal = new URI(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
    } catch (URISyntaxException e) {
      signal = null;
    }
    if (signal == null
        || signal.getHost() == null
        || !("ws".equalsIgnoreCase(signal.getScheme())
            || "wss".equalsIgnoreCase(signal.getScheme()))) {
      throw new InvalidConfigException(
          "signal-url: "
              + url
              + " (expected: a ws:// or wss:// URL such as wss://signal.example.com)");
    }
    String stateDir = settings.get("state-dir");
    String hostname = settings.get("hostname");
    String joinToken = settings.get("join-token");
    String ca = settings.get("ca-file");
    Path caFile = ca == null || ca.isBlank() ? null : Path.of(ca);
    if (caFile != null && !java.nio.file.Files.isReadable(caFile)) {
      throw new InvalidConfigException(
          "ca-file: " + caFile + " cannot be read (expected: a PEM file of CA certificates)");
    }
    String display = settings.get("display");
    if (display != null && (display.isBlank() || display.equals("none"))) {
      display = null;
    }
    if (display != null && !display.matches("[A-Za-z0-9._/-]*:\\d+(\\.\\d+)?")) {
      throw new InvalidConfigException(
          "display: " + display + " (expected: an X display such as :0 or :99, or none)");
    }
    int fps = DEFAULT_FPS;
    String fpsSetting = settings.get("fps");
    if (fpsSetting != null && !fpsSetting.isBlank()) {
      try {
        fps = Integer.parseInt(fpsSetting.strip());
      } catch (NumberFormatException e) {
        fps = -1;
      }
      if (fps < 1 || fps > 60) {
        throw new InvalidConfigException(
            "fps: " + fpsSetting + " (expected: a whole number of frames per second, 1..60)");
      }
    }
    ClipboardPolicy clipboard = ClipboardPolicy.BOTH;
    String clipboardSetting = settings.get("clipboard");
    if (clipboardSetting != null && !clipboardSetting.isBlank()) {
      try {
        clipboard = ClipboardPolicy.parse(clipboardSetting.strip());
      } catch (IllegalArgumentException e) {
        throw new InvalidConfigException(e.getMessage());
      }
    }
    String resizeSetting = settings.getOrDefault("resize", "false").strip();
    if (!resizeSetting.equals("true") && !resizeSetting.equals("false")) {
      throw new InvalidConfigException("resize: " + resizeSetting + " (expected: true or false)");
    }
    TunnelTargets targets;
    try {
      targets = TunnelTargets.parse(settings.get("ssh"), settings.get("apps"), settings.get("tcp"));
    } catch (IllegalArgumentException e) {
      throw new InvalidConfigException(e.getMessage());
    }
    String leaf = settings.get("leaf-url");
    String leafKey = settings.get("leaf-api-key-file");
    URI leafUrl = null;
    Path leafKeyFile = null;
    if (leaf != null && !leaf.isBlank()) {
      try {
        leafUrl = new URI(leaf.strip());
      } catch (URISyntaxException e) {
        leafUrl = null;
      }
      if (leafUrl == null
          || leafUrl.getHost() == null
          || !("http".equalsIgnoreCase(leafUrl.getScheme())
              || "https".equalsIgnoreCase(leafUrl.getScheme()))) {
        throw new InvalidConfigException(
            "leaf-url: "
                + leaf
                + " (expected: the http:// or https:// URL of this cluster's own platform)");
      }
      if (!targets.isEmpty()) {
        throw new InvalidConfigException(
            "leaf-url with ssh, apps or tcp (expected: a cluster link, which reaches the leaf's"
                + " nodes, or an edge node, which declares targets; not both)");
      }
      if (leafKey == null || leafKey.isBlank()) {
        throw new InvalidConfigException(
            "leaf-api-key-file: missing (expected: with leaf-url, the file holding the API key of"
                + " the leaf's airlock.trust.link-user)");
      }
      leafKeyFile = Path.of(leafKey.strip());
      if (!java.nio.file.Files.isReadable(leafKeyFile)) {
        throw new InvalidConfigException(
            "leaf-api-key-file: "
                + leafKeyFile
                + " cannot be read (expected: a file holding"
                + " an API key, alk_…)");
      }
    } else if (leafKey != null && !leafKey.isBlank()) {
      throw new InvalidConfigException("leaf-api-key-file without leaf-url (expected: both)");
    }
    return new AgentConfig(
        signal,
        joinToken == null || joinToken.isBlank() ? null : joinToken,
        stateDir == null || stateDir.isBlank() ? DEFAULT_STATE_DIR : Path.of(stateDir),
        hostname == null || hostname.isBlank() ? localHostname() : hostname,
        caFile,
        display,
        fps,
        clipboard,
        Boolean.parseBoolean(resizeSetting),
        targets,
        leafUrl,
        leafKeyFile);
  }

  /** Whether this agent is a trusted cluster's link (it has a {@code leaf-url}). */
  public boolean clusterLink() {
    return leafUrl != null;
  }

  /** The health endpoint of the configured node, which names its tunnel endpoint. */
  public URI healthEndpoint() {
    String url = signalUrl.toString();
    String scheme = signalUrl.getScheme().toLowerCase(Locale.ROOT);
    return URI.create(
        (scheme.equals("wss") ? "https" : "http") + url.substring(scheme.length()) + HEALTH_PATH);
  }

  /** The agent endpoint of the configured node. */
  public URI agentEndpoint() {
    return URI.create(signalUrl + AGENT_PATH);
  }

  private static String localHostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      String fromEnvironment = System.getenv("HOSTNAME");
      return fromEnvironment != null ? fromEnvironment : "localhost";
    }
  }

  /** Never prints the join token (nor the link's API key: only its file). */
  @Override
  public String toString() {
    return "AgentConfig[signalUrl="
        + signalUrl
        + ", joinToken="
        + (joinToken == null ? "none" : "***")
        + ", stateDir="
        + stateDir
        + ", hostname="
        + hostname
        + ", caFile="
        + caFile
        + ", display="
        + (display == null ? "none" : display)
        + ", fps="
        + fps
        + ", clipboard="
        + clipboard.wireName()
        + ", targets="
        + targets
        + (leafUrl == null ? "" : ", leafUrl=" + leafUrl + ", leafApiKeyFile=" + leafApiKeyFile)
        + "]";
  }
}
