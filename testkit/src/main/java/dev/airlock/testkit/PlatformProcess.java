package dev.airlock.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The platform's boot jar running as a separate process, started exactly as an operator would:
 * {@code java -jar airlock-platform.jar --server.port=… --airlock.database.url=…
 * --airlock.data-dir=…}. Its output goes to a log file, whose tail every failure message quotes.
 *
 * <p>The database is a {@link TestDatabase} (or, with {@link #startEmbedded}, the platform's own
 * embedded MariaDB); the caller drops it after {@link #close()}.
 */
public final class PlatformProcess implements AutoCloseable {

  /** The system property naming the boot jar; the modules' poms set it for surefire. */
  public static final String JAR_PROPERTY = "airlock.platform.jar";

  /** The file in the data directory where the first start leaves the admin's one-time password. */
  public static final String INITIAL_ADMIN_PASSWORD_FILE = "initial-admin-password";

  /** The file in the data directory where the platform leaves the signal nodes' API key. */
  public static final String SIGNAL_NODE_KEY_FILE = "signal-node-key";

  private static final String HEALTH_PATH = "/api/v1/health";
  private static final Duration POLL_INTERVAL = Duration.ofMillis(200);
  private static final Duration STOP_GRACE = Duration.ofSeconds(20);
  private static final int TAIL_LINES = 150;

  private final Process process;
  private final URI baseUrl;
  private final Path dataDir;
  private final Path log;

  private PlatformProcess(Process process, URI baseUrl, Path dataDir, Path log) {
    this.process = process;
    this.baseUrl = baseUrl;
    this.dataDir = dataDir;
    this.log = log;
  }

  /**
   * The boot jar named by {@value #JAR_PROPERTY}, or else {@code ../platform/target/
   * airlock-platform.jar} (a module's directory being the working directory under Maven); fails
   * saying how to build it when it is not there.
   */
  public static Path jar() {
    String configured = System.getProperty(JAR_PROPERTY);
    Path jar =
        (configured == null || configured.isBlank()
                ? Path.of("..", "platform", "target", "airlock-platform.jar")
                : Path.of(configured))
            .toAbsolutePath()
            .normalize();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "The platform's boot jar does not exist: "
              + jar
              + ". This test runs the real platform as a separate process: build the platform"
              + " first (./mvnw -pl platform -am install -DskipTests), or point -D"
              + JAR_PROPERTY
              + " at a jar.");
    }
    return jar;
  }

  /** A TCP port free on the loopback interface now. */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /**
   * Starts the jar (which the caller has checked exists) on {@code database} and returns at once;
   * see {@link #awaitHealthy(Duration)}.
   */
  public static PlatformProcess start(
      Path jar, int port, TestDatabase database, Path dataDir, Path log) throws IOException {
    return start(jar, port, database.platformUrl(), dataDir, log);
  }

  /**
   * Starts the jar with no database configured, so it runs its embedded MariaDB in {@code dataDir},
   * as {@code ./airlock start} does.
   */
  public static PlatformProcess startEmbedded(Path jar, int port, Path dataDir, Path log)
      throws IOException {
    return start(jar, port, (String) null, dataDir, log);
  }

  /** Starts the jar on {@code database} with extra settings ({@code --key=value}). */
  public static PlatformProcess start(
      Path jar, int port, TestDatabase database, Path dataDir, Path log, List<String> settings)
      throws IOException {
    return start(jar, port, database.platformUrl(), dataDir, log, settings);
  }

  private static PlatformProcess start(
      Path jar, int port, String databaseUrl, Path dataDir, Path log) throws IOException {
    return start(jar, port, databaseUrl, dataDir, log, List.of());
  }

  private static PlatformProcess start(
      Path jar, int port, String databaseUrl, Path dataDir, Path log, List<String> settings)
      throws IOException {
    Files.createDirectories(dataDir);
    Files.createDirectories(log.getParent());
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-jar");
    command.add(jar.toString());
    command.add("--server.port=" + port);
    if (databaseUrl != null) {
      command.add("--airlock.database.url=" + databaseUrl);
    }
    command.add("--airlock.data-dir=" + dataDir);
    command.addAll(settings);
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .directory(dataDir.toFile())
            .start();
    return new PlatformProcess(process, URI.create("http://127.0.0.1:" + port), dataDir, log);
  }

  /** The file holding everything the platform wrote to its console and log. */
  public Path logFile() {
    return log;
  }

  /** Where the platform listens, directly (not through a proxy). */
  public URI baseUrl() {
    return baseUrl;
  }

  /** The platform's data directory. */
  public Path dataDir() {
    return dataDir;
  }

  /**
   * Waits until {@code GET /api/v1/health} answers 200.
   *
   * @throws IllegalStateException when the process exits or the timeout passes first, quoting the
   *     process's output
   */
  public void awaitHealthy(Duration timeout) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    HttpRequest health =
        HttpRequest.newBuilder(baseUrl.resolve(HEALTH_PATH)).timeout(Duration.ofSeconds(5)).build();
    Instant deadline = Instant.now().plus(timeout);
    String last = "no answer yet";
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "The platform exited with status "
                + process.exitValue()
                + " before it was healthy.\n"
                + outputTail());
      }
      try {
        HttpResponse<String> response = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
        last = response.statusCode() + " " + response.body();
      } catch (IOException notListeningYet) {
        last = notListeningYet.toString();
      }
      Thread.sleep(POLL_INTERVAL.toMillis());
    }
    throw new IllegalStateException(
        "The platform was not healthy within "
            + timeout.toSeconds()
            + " s (GET "
            + HEALTH_PATH
            + ": "
            + last
            + ").\n"
            + outputTail());
  }

  /** Reads the one-time admin password the first start writes into the data directory. */
  public String initialAdminPassword(Duration timeout) throws IOException, InterruptedException {
    return dataFile(INITIAL_ADMIN_PASSWORD_FILE, timeout);
  }

  /**
   * Reads a file the platform writes into its data directory at its first start ({@value
   * #INITIAL_ADMIN_PASSWORD_FILE}, {@value #SIGNAL_NODE_KEY_FILE}), waiting for it up to {@code
   * timeout}; returns its content without surrounding white space.
   */
  public String dataFile(String name, Duration timeout) throws IOException, InterruptedException {
    Path file = dataDir.resolve(name);
    Instant deadline = Instant.now().plus(timeout);
    while (!Files.isRegularFile(file) && Instant.now().isBefore(deadline)) {
      Thread.sleep(POLL_INTERVAL.toMillis());
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          "The platform is healthy but wrote no " + file + " on its first start.\n" + outputTail());
    }
    return Files.readString(file, StandardCharsets.UTF_8).strip();
  }

  /** The last lines of the process's output, with the log file's path. */
  public String outputTail() {
    List<String> lines;
    try {
      lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read the platform's output from " + log + ": " + e + ")";
    }
    return Processes.tail(lines, TAIL_LINES, "the platform's output", log);
  }

  /** Stops the process: SIGTERM, then a kill if it has not exited within 20 s. */
  @Override
  public void close() throws InterruptedException {
    Processes.stop(process, STOP_GRACE);
  }
}
