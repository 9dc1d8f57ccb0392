package dev.airlock.contract.harness;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.PasswordChange;
import dev.airlock.sdk.model.TokenPair;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The platform under test, as the whole run shares it: the boot jar running on a fresh database,
 * the validating proxy in front of it, and the admin account, whose one-time password has been
 * changed as a new operator would.
 *
 * <p>Tests reach the platform only through {@link #baseUrl()} (the proxy), with the Java SDK
 * ({@link #newClient()}, {@link #admin()}) or, for requests an SDK cannot send, {@link
 * #rawWebClient()}.
 */
public final class ContractPlatform implements AutoCloseable {

  /** The account the platform creates on its first start. */
  public static final String ADMIN_USERNAME = "admin";

  /** The longest a single call to the platform may take in these tests. */
  public static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  static final Duration START_TIMEOUT = Duration.ofSeconds(120);

  /** What the first login with the one-time password showed, for the tests to judge. */
  public record FirstLogin(
      String oneTimePassword, TokenPair tokens, AirlockProblemException listUsersRefusal) {}

  private final PlatformProcess process;
  private final Path spec;
  private final TestDatabase database;
  private final ValidatingProxy proxy;
  private final Path dataDir;
  private final String adminPassword;
  private final AirlockClient admin;
  private final FirstLogin firstLogin;

  private ContractPlatform(
      PlatformProcess process,
      Path spec,
      TestDatabase database,
      ValidatingProxy proxy,
      Path dataDir,
      String adminPassword,
      AirlockClient admin,
      FirstLogin firstLogin) {
    this.process = process;
    this.spec = spec;
    this.database = database;
    this.proxy = proxy;
    this.dataDir = dataDir;
    this.adminPassword = adminPassword;
    this.admin = admin;
    this.firstLogin = firstLogin;
  }

  /**
   * Starts the platform on a fresh database, puts the proxy in front of it and takes over the admin
   * account. Everything started is stopped again if a step fails.
   *
   * @throws IllegalStateException with the reason (a missing jar, an unreachable database, the
   *     platform's output when it does not become healthy)
   */
  /**
   * The first start's administrator, logged in through {@code baseUrl} (the platform itself or a
   * {@link ValidatingProxy} in front of it) after replacing the one-time password with {@code
   * password}.
   */
  public static AirlockClient firstAdministrator(
      PlatformProcess platform, String baseUrl, String password)
      throws IOException, InterruptedException {
    String oneTime = platform.initialAdminPassword(Duration.ofSeconds(20));
    AirlockClient admin = AirlockClient.builder().baseUrl(baseUrl).build();
    admin.login(ADMIN_USERNAME, oneTime).block(CALL_TIMEOUT);
    admin
        .auth()
        .changePassword(new PasswordChange().currentPassword(oneTime).newPassword(password))
        .block(CALL_TIMEOUT);
    admin.login(ADMIN_USERNAME, password).block(CALL_TIMEOUT);
    return admin;
  }

  /** The platform's boot jar under test. */
  public static Path platformJar() {
    return configuredPath(
        PlatformProcess.JAR_PROPERTY,
        repositoryRoot().resolve("platform/target/airlock-platform.jar"));
  }

  static ContractPlatform start() throws Exception {
    Path repository = repositoryRoot();
    Path jar = platformJar();
    Path spec = configuredPath("airlock.spec", repository.resolve("openapi/airlock.yaml"));
    Path work =
        configuredPath(
            "airlock.contract.work.dir", repository.resolve("contract-tests/target/contract"));
    if (!Files.isRegularFile(jar)) {
      // Said before touching the database: this is the usual reason and needs no other detail.
      throw new IllegalStateException(
          "The platform's boot jar does not exist: "
              + jar
              + ". The contract suite runs the real platform as a separate process: build it"
              + " first (./mvnw -pl platform -am package -DskipTests), or point"
              + " -Dairlock.platform.jar at one.");
    }
    TestDatabase database = TestDatabase.fresh("airlock_ct_");
    database.requireReachable();
    Path dataDir = Files.createTempDirectory("airlock-ct-data-");
    Path log = work.resolve("platform-" + database.name() + ".log");
    PlatformProcess process = null;
    ValidatingProxy proxy = null;
    try {
      process = PlatformProcess.start(jar, PlatformProcess.freePort(), database, dataDir, log);
      process.awaitHealthy(START_TIMEOUT);
      String oneTimePassword = process.initialAdminPassword(Duration.ofSeconds(10));
      proxy = ValidatingProxy.start(spec, process.baseUrl());
      AirlockClient admin = AirlockClient.builder().baseUrl(proxy.baseUrl()).build();
      TokenPair first = admin.login(ADMIN_USERNAME, oneTimePassword).block(CALL_TIMEOUT);
      AirlockProblemException refusal = null;
      try {
        admin.users().listUsers(null, null).block(CALL_TIMEOUT);
      } catch (AirlockProblemException expected) {
        refusal = expected;
      }
      String password = newPassword();
      admin
          .auth()
          .changePassword(
              new PasswordChange().currentPassword(oneTimePassword).newPassword(password))
          .block(CALL_TIMEOUT);
      admin.login(ADMIN_USERNAME, password).block(CALL_TIMEOUT);
      return new ContractPlatform(
          process,
          spec,
          database,
          proxy,
          dataDir,
          password,
          admin,
          new FirstLogin(oneTimePassword, first, refusal));
    } catch (Exception | Error failure) {
      String output = process == null ? "" : "\n" + process.outputTail();
      closeQuietly(proxy, failure);
      closeQuietly(process, failure);
      closeQuietly(() -> database.drop(), failure);
      closeQuietly(() -> deleteRecursively(dataDir), failure);
      if (failure instanceof IllegalStateException) {
        throw failure;
      }
      throw new IllegalStateException(
          "Could not take over the platform's admin account: " + failure + output, failure);
    }
  }

  /** The proxy's URL: the platform's base URL as far as the SDKs know. */
  public String baseUrl() {
    return proxy.baseUrl();
  }

  /** A new SDK client without credentials, through the proxy. */
  public AirlockClient newClient() {
    return AirlockClient.builder().baseUrl(proxy.baseUrl()).build();
  }

  /** A new SDK client logged in with the given credentials, through the proxy. */
  public AirlockClient loginAs(String username, String password) {
    AirlockClient client = newClient();
    client.login(username, password).block(CALL_TIMEOUT);
    return client;
  }

  /** The shared client logged in as the admin (after the one-time password was changed). */
  public AirlockClient admin() {
    return admin;
  }

  /** The admin's password, as the harness changed it. */
  public String adminPassword() {
    return adminPassword;
  }

  /** What the first login with the one-time password showed. */
  public FirstLogin firstLogin() {
    return firstLogin;
  }

  /**
   * A WebClient on the proxy's URL with no SDK behaviour: no credentials, no error mapping. Only
   * for requests an SDK cannot send (malformed bodies, forged headers).
   */
  public WebClient rawWebClient() {
    return WebClient.builder().baseUrl(proxy.baseUrl()).build();
  }

  /** The API contract the proxy validates against ({@code openapi/airlock.yaml}). */
  public Path spec() {
    return spec;
  }

  /** The test database, for the tests that play an attacker with DBA rights. */
  public TestDatabase database() {
    return database;
  }

  /** The file holding everything the platform wrote to its console and log. */
  public Path platformLog() {
    return process.logFile();
  }

  /** The last lines the platform wrote, for failure messages. */
  public String platformOutputTail() {
    return process.outputTail();
  }

  ValidatingProxy proxy() {
    return proxy;
  }

  /** Stops the proxy and the platform, drops the database and deletes the data directory. */
  @Override
  public void close() throws Exception {
    Exception first = null;
    for (AutoCloseable step :
        List.<AutoCloseable>of(
            proxy, process, () -> database.drop(), () -> deleteRecursively(dataDir))) {
      try {
        step.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  private static void closeQuietly(AutoCloseable closeable, Throwable into) {
    if (closeable == null) {
      return;
    }
    try {
      closeable.close();
    } catch (Exception e) {
      into.addSuppressed(e);
    }
  }

  private static String newPassword() {
    byte[] random = new byte[18];
    new SecureRandom().nextBytes(random);
    return "Ct-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  private static Path configuredPath(String property, Path fallback) {
    String value = System.getProperty(property);
    return (value == null || value.isBlank() ? fallback : Path.of(value)).toAbsolutePath();
  }

  /** The repository root (where openapi/airlock.yaml is), for runs outside Maven. */
  private static Path repositoryRoot() {
    Path here = Path.of("").toAbsolutePath();
    for (Path dir = here; dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("openapi/airlock.yaml"))) {
        return dir;
      }
    }
    return here;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
    }
    for (Path path : paths) {
      Files.deleteIfExists(path);
    }
  }
}
