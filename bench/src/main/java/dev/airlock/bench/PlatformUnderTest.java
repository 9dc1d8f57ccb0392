package dev.airlock.bench;

import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;

/**
 * The platform being measured: either a child process started on a free loopback port against a
 * fresh database (stopped, and its database dropped, on {@link #close()}), or a running one given
 * by URL. Either way it holds an administrator's password, can log in for a fresh access token, and
 * owns one API key for the run.
 */
final class PlatformUnderTest implements AutoCloseable {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String baseUrl;
  private final String username;
  private final Process process;
  private final Path dataDir;
  private final Settings settings;
  private final String database;
  private String password;
  private String apiKeyId;
  private String apiKeySecret;
  private boolean closed;
  // Ctrl-C or a failure must not leave a platform running or a database behind.
  private final Thread stopOnExit = new Thread(this::close, "bench-stop-platform");

  private PlatformUnderTest(
      String baseUrl,
      String username,
      String password,
      Process process,
      Path dataDir,
      String database,
      Settings settings) {
    this.baseUrl = baseUrl;
    this.username = username;
    this.password = password;
    this.process = process;
    this.dataDir = dataDir;
    this.database = database;
    this.settings = settings;
    Runtime.getRuntime().addShutdownHook(stopOnExit);
  }

  /**
   * Starts the platform jar on a free port against a new database on {@code
   * settings.databaseServer()}, waits until it is healthy, replaces the administrator's one-time
   * password and creates an API key.
   */
  static PlatformUnderTest start(Settings settings) throws Exception {
    if (!Files.isRegularFile(settings.platformJar())) {
      throw new IllegalStateException(
          "platform-jar: "
              + settings.platformJar().toAbsolutePath()
              + " does not exist (expected: build it with"
              + " ./mvnw -B -q -pl platform package -DskipTests)");
    }
    String database = "airlock_bench_" + Long.toString(System.currentTimeMillis(), 36);
    Path dataDir = Files.createTempDirectory("airlock-bench-");
    int port = freePort();
    // Run a copy: the jar may be rebuilt while the benchmark runs.
    Path jar =
        Files.copy(settings.platformJar(), dataDir.resolve(settings.platformJar().getFileName()));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(settings.platformJvmArgs());
    command.addAll(
        List.of(
            "-jar",
            jar.toString(),
            "--server.port=" + port,
            "--server.address=127.0.0.1",
            "--airlock.database.url=" + stripSlash(settings.databaseServer()) + "/" + database,
            "--airlock.data-dir=" + dataDir));
    Process process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dataDir.resolve("platform.log").toFile())
            .start();
    PlatformUnderTest platform =
        new PlatformUnderTest(
            "http://127.0.0.1:" + port, "admin", null, process, dataDir, database, settings);
    try {
      platform.awaitHealthy(settings.startTimeout());
      platform.replaceOneTimePassword();
      platform.createApiKey();
      return platform;
    } catch (Exception e) {
      System.err.println(platform.logTail(40));
      platform.close();
      throw e;
    }
  }

  /** Uses the running platform at {@code settings.baseUrl()}. */
  static PlatformUnderTest attach(Settings settings) throws Exception {
    PlatformUnderTest platform =
        new PlatformUnderTest(
            stripSlash(settings.baseUrl()),
            settings.adminUser(),
            settings.adminPassword(),
            null,
            null,
            null,
            settings);
    Map<String, Object> tokens = platform.loginPair();
    if (Boolean.TRUE.equals(tokens.get("passwordChangeRequired"))) {
      throw new IllegalStateException(
          "admin-password: a one-time password (expected: the administrator's own password;"
              + " change it first with PUT /api/v1/auth/password)");
    }
    platform.createApiKey();
    return platform;
  }

  String baseUrl() {
    return baseUrl;
  }

  String username() {
    return username;
  }

  String password() {
    return password;
  }

  String apiKeySecret() {
    return apiKeySecret;
  }

  /** The platform's process when this driver started it. */
  Optional<ProcessHandle> process() {
    return Optional.ofNullable(process).map(Process::toHandle);
  }

  String describe() {
    return process == null
        ? baseUrl + " (running already)"
        : baseUrl
            + " (child process "
            + process.pid()
            + ", "
            + settings.platformJar()
            + ", database "
            + database
            + ")";
  }

  /** Logs in with the administrator's password; returns a fresh access token. */
  String freshAccessToken() throws IOException, InterruptedException {
    return (String) loginPair().get("accessToken");
  }

  /**
   * Makes sure the audit log holds at least {@code count} events, so that a page of that size is
   * full: a fresh platform has only a handful. Each missing event is added by presenting a bogus
   * bearer token, which the platform refuses and audits ({@code auth.token}, denied); no account is
   * involved, so nothing gets locked.
   */
  void ensureAuditEvents(int count) throws IOException, InterruptedException {
    Map<String, Object> page =
        call("GET", "/api/v1/audit/events?limit=" + count, freshAccessToken(), null, 200);
    int have = page.get("items") instanceof List<?> items ? items.size() : 0;
    for (int i = have; i < count; i++) {
      HttpResponse<String> refused =
          http.send(
              HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/auth/me"))
                  .timeout(CALL_TIMEOUT)
                  .header("Accept", "application/json")
                  .header("Authorization", "Bearer bench-not-a-token")
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (refused.statusCode() != 401) {
        throw new IllegalStateException(
            "GET /api/v1/auth/me with a bogus token: HTTP "
                + refused.statusCode()
                + " (expected: 401): "
                + refused.body());
      }
    }
  }

  private Map<String, Object> loginPair() throws IOException, InterruptedException {
    return call(
        "POST",
        "/api/v1/auth/login",
        null,
        Map.of("username", username, "password", password),
        200);
  }

  private void awaitHealthy(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "The platform exited with " + process.exitValue() + " while starting");
      }
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create(baseUrl + "/api/v1/health"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
        last = response.statusCode() + " " + response.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "The platform was not healthy after " + timeout + " (last answer: " + last + ")");
  }

  private void replaceOneTimePassword() throws IOException, InterruptedException {
    // The platform creates the first administrator once it is ready, so just after health first
    // answers 200 the password file may not be there yet.
    Path file = dataDir.resolve("initial-admin-password");
    long deadline = System.nanoTime() + settings.startTimeout().toNanos();
    while (!Files.isRegularFile(file) || Files.size(file) == 0) {
      if (System.nanoTime() > deadline || !process.isAlive()) {
        throw new IllegalStateException(file + " did not appear (expected: the one-time password)");
      }
      Thread.sleep(200);
    }
    password = Files.readString(file).trim();
    Map<String, Object> tokens = loginPair();
    if (!Boolean.TRUE.equals(tokens.get("passwordChangeRequired"))) {
      return;
    }
    String replacement = randomPassword();
    call(
        "PUT",
        "/api/v1/auth/password",
        (String) tokens.get("accessToken"),
        Map.of("currentPassword", password, "newPassword", replacement),
        204);
    password = replacement;
  }

  private void createApiKey() throws IOException, InterruptedException {
    String name = process == null ? "bench-" + Long.toString(System.nanoTime(), 36) : "bench";
    Map<String, Object> key =
        call(
            "POST",
            "/api/v1/api-keys",
            freshAccessToken(),
            Map.of("name", name, "roles", List.of("admin")),
            201);
    apiKeyId = String.valueOf(key.get("id"));
    apiKeySecret = (String) key.get("secret");
  }

  private Map<String, Object> call(
      String method, String path, String token, Map<String, Object> body, int expected)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(CALL_TIMEOUT);
    // The platform answers 406 to "Accept: application/json" on its 204 operations (their only
    // declared media type is application/problem+json), so those get no Accept header.
    if (expected != 204) {
      request.header("Accept", "application/json");
    }
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    if (body != null) {
      request
          .header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != expected) {
      throw new IllegalStateException(
          method
              + " "
              + path
              + ": HTTP "
              + response.statusCode()
              + " (expected: "
              + expected
              + "): "
              + response.body());
    }
    if (response.body().isEmpty()) {
      return Map.of();
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> parsed = JSON.readValue(response.body(), Map.class);
    return parsed;
  }

  /** The platform log's WARN and ERROR lines, at most {@code max}, and how many there were. */
  List<String> logProblems(int max) {
    if (dataDir == null) {
      return List.of();
    }
    try (Stream<String> lines = Files.lines(dataDir.resolve("platform.log"))) {
      List<String> problems =
          lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
      List<String> shown = new ArrayList<>();
      problems.stream()
          .limit(max)
          .forEach(l -> shown.add(l.length() > 400 ? l.substring(0, 400) + "…" : l));
      if (problems.size() > max) {
        shown.add("… and " + (problems.size() - max) + " more");
      }
      return shown;
    } catch (IOException e) {
      return List.of("cannot read the platform log: " + e);
    }
  }

  private String logTail(int lines) {
    if (dataDir == null) {
      return "";
    }
    try {
      List<String> all = Files.readAllLines(dataDir.resolve("platform.log"));
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "cannot read the platform log: " + e;
    }
  }

  /**
   * Revokes the run's API key on a running platform; stops a child platform, drops its database and
   * deletes its data directory. Safe to call twice.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (Thread.currentThread() != stopOnExit) {
      try {
        Runtime.getRuntime().removeShutdownHook(stopOnExit);
      } catch (IllegalStateException e) {
        // the JVM is exiting; the hook finds this one closed
      }
    }
    if (process == null) {
      if (apiKeyId != null) {
        try {
          call("DELETE", "/api/v1/api-keys/" + apiKeyId, freshAccessToken(), null, 204);
        } catch (Exception e) {
          System.err.println("Cannot revoke the bench API key " + apiKeyId + ": " + e);
        }
      }
      return;
    }
    stop();
    dropDatabase();
    deleteDataDir();
  }

  private void stop() {
    process.destroy(); // SIGTERM: the platform shuts down gracefully
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void dropDatabase() {
    URI server = URI.create(stripSlash(settings.databaseServer()));
    String userInfo = server.getRawUserInfo() == null ? "root:" : server.getRawUserInfo();
    int colon = userInfo.indexOf(':');
    String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
    String pass = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
    String jdbc =
        "jdbc:mariadb://"
            + server.getHost()
            + ":"
            + (server.getPort() < 0 ? 3306 : server.getPort())
            + "/";
    try (Connection connection = DriverManager.getConnection(jdbc, user, pass);
        Statement statement = connection.createStatement()) {
      // The name is ours: airlock_bench_ and base-36 digits.
      statement.execute("DROP DATABASE IF EXISTS `" + database + "`");
    } catch (SQLException e) {
      System.err.println("Cannot drop the database " + database + ": " + e);
    }
  }

  private void deleteDataDir() {
    try (Stream<Path> paths = Files.walk(dataDir)) {
      paths
          .sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  // left in the temp directory
                }
              });
    } catch (IOException e) {
      System.err.println("Cannot delete " + dataDir + ": " + e);
    }
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }

  private static String stripSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  private static int freePort() throws IOException {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String randomPassword() {
    String alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    SecureRandom random = new SecureRandom();
    StringBuilder password = new StringBuilder("bench-");
    for (int i = 0; i < 24; i++) {
      password.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return password.toString();
  }
}
