package dev.airlock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.cli.CliRunner.Result;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.ImageSpec;
import dev.airlock.sdk.model.TokenPair;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The CLI against the real platform: its boot jar runs as a process on a fresh database on the test
 * MariaDB (one platform for the class), started as an operator would, with no provisioner. The
 * admin logs in with the CLI and the one-time password of the first start; CI-style runs use an API
 * key made with the SDK. Every run's output is checked for stack traces and credentials.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PlatformCommandsTest {

  private static final Duration CALL = Duration.ofSeconds(30);
  private static final String ADMIN_PASSWORD = "cli test admin password";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final AtomicInteger dirs = new AtomicInteger();
  private Path work;
  private TestDatabase database;
  private PlatformProcess platform;
  private String url;
  private Path adminConfig;
  private AirlockClient admin;
  private String apiKey;

  @BeforeAll
  void startPlatformAndLogIn() throws Exception {
    Path jar = PlatformProcess.jar();
    work =
        Path.of(System.getProperty("airlock.cli.test.work.dir", "target/cli-test"))
            .toAbsolutePath()
            .resolve("run-" + System.currentTimeMillis());
    Files.createDirectories(work);
    database = TestDatabase.fresh("airlock_cli_");
    database.requireReachable();
    platform =
        PlatformProcess.start(
            jar,
            PlatformProcess.freePort(),
            database,
            work.resolve("platform-data"),
            work.resolve("platform.log"));
    toClose.add(platform);
    platform.awaitHealthy(Duration.ofSeconds(120));
    url = platform.baseUrl().toString();

    // The first start's flow: the one-time password, then a new one, both on standard input.
    String oneTime = platform.initialAdminPassword(Duration.ofSeconds(20));
    adminConfig = work.resolve("admin-config");
    Result login =
        CliRunner.withConfigDir(adminConfig)
            .runWithInput(
                oneTime + "\n" + ADMIN_PASSWORD + "\n",
                "login",
                "--url",
                url,
                "--username",
                "admin",
                "--password-stdin");
    assertThat(login.exit()).as("%s", login).isZero();
    assertThat(login.out()).isEqualTo("Logged in to " + url + " as admin.\n");
    assertThat(login.all()).doesNotContain(oneTime, ADMIN_PASSWORD);

    admin = AirlockClient.builder().baseUrl(url).build();
    TokenPair pair = admin.login("admin", ADMIN_PASSWORD).block(CALL);
    assertThat(pair.getPasswordChangeRequired()).isFalse();
    apiKey =
        admin
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("cli-test").roles(List.of("admin")))
            .block(CALL)
            .getSecret();
  }

  @AfterAll
  void stopPlatform() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        // keep stopping the rest
      }
    }
    if (database != null) {
      database.drop();
    }
  }

  /** A CI-style runner: the API key and the URL in the environment, no stored login. */
  private CliRunner withApiKey() {
    return CliRunner.withConfigDir(freshDir())
        .env("AIRLOCK_URL", url)
        .env("AIRLOCK_API_KEY", apiKey);
  }

  private Path freshDir() {
    return work.resolve("config-" + dirs.incrementAndGet());
  }

  /** Defines an image (idempotent within the class), as an admin would before users launch it. */
  private void image(String name) {
    try {
      admin
          .images()
          .createImage(
              new ImageSpec()
                  .name(name)
                  .reference("airlock/agent:dev")
                  .description("made by " + getClass().getSimpleName()))
          .block(CALL);
    } catch (AirlockProblemException exists) {
      if (exists.status() != 409) {
        throw exists;
      }
    }
  }

  /** Neither stream shows a stack trace or a credential. */
  private void assertClean(Result result) {
    assertThat(result.err()).as("%s", result).doesNotContain("\tat ", "Exception:");
    assertThat(result.all()).as("%s", result).doesNotContain(apiKey, ADMIN_PASSWORD);
  }

  private static JsonNode oneDocument(String out) {
    return ContainerCommandsTest.oneDocument(out);
  }

  @Test
  void theStoredLoginIsPrivateAndHoldsNoPassword() throws IOException {
    Path file = adminConfig.resolve("credentials.json");

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(adminConfig)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    JsonNode stored = JSON.readTree(Files.readString(file));
    assertThat(stored.get("url").asString()).isEqualTo(url);
    assertThat(stored.get("username").asString()).isEqualTo("admin");
    assertThat(stored.get("refreshToken").asString()).isNotBlank();
    assertThat(Files.readString(file)).doesNotContain(ADMIN_PASSWORD);
  }

  @Test
  void jobsLsShowsEveryJobWithItsSchedule() {
    Result result = withApiKey().run("jobs", "ls");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out().lines().findFirst().orElseThrow())
        .startsWith("NAME")
        .contains("SCHEDULE", "ENABLED", "NEXT RUN", "LAST RUN", "OUTCOME");
    assertThat(result.out())
        .containsPattern("(?m)^container-reaper +\\*/15 \\* \\* \\* \\* \\* +yes ")
        .containsPattern("(?m)^warm-pool +\\*/5 \\* \\* \\* \\* \\* +yes ");
    assertClean(result);
  }

  @Test
  void jobsRunWaitsForTheRunAndItShowsInTheJobsRuns() {
    Result run = withApiKey().run("jobs", "run", "container-reaper", "--wait");

    assertThat(run.exit()).as("%s", run).isZero();
    assertThat(run.out())
        .matches("container-reaper run [0-9a-f-]{36}: succeeded \\(stopped=0 .*\\)\n");
    String id = run.out().split(" ")[2].replace(":", "");

    Result runs = withApiKey().run("jobs", "runs", "container-reaper", "-o", "json");
    assertThat(runs.exit()).as("%s", runs).isZero();
    // The reaper's own schedule may have run since: find this run among the newest.
    JsonNode mine = null;
    for (JsonNode listed : oneDocument(runs.out())) {
      if (listed.get("id").asText().equals(id)) {
        mine = listed;
      }
    }
    assertThat(mine).as("run %s in %s", id, runs.out()).isNotNull();
    assertThat(mine.get("trigger").asText()).isEqualTo("manual");
    assertThat(mine.get("triggeredBy").asText()).isEqualTo("admin");
    assertThat(mine.get("outcome").asText()).isEqualTo("succeeded");
    assertClean(run);
  }

  @Test
  void jobsRunOfAnUnknownJobIsNotFound() {
    Result result = withApiKey().run("jobs", "run", "no-such-job");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.NOT_FOUND);
    assertThat(result.err()).startsWith("airlock: Not found: ").contains("no-such-job");
    assertClean(result);
  }

  @Test
  void auditExportWritesEveryEventOnceInChainOrderAsJsonLines() {
    Result all = withApiKey().run("audit", "export");

    assertThat(all.exit()).as("%s", all).isZero();
    List<JsonNode> events = all.out().lines().map(PlatformCommandsTest::oneDocument).toList();
    assertThat(events).as("the platform's start-up and this class's logins").hasSizeGreaterThan(3);
    for (int i = 0; i < events.size(); i++) {
      assertThat(events.get(i).get("seq").asLong()).isEqualTo(i + 1);
      assertThat(events.get(i).get("hash").asText()).hasSize(64);
    }
    assertThat(all.err()).isEqualTo(events.size() + " events exported\n");

    Result rest = withApiKey().run("audit", "export", "--after-seq", "3");
    assertThat(rest.exit()).as("%s", rest).isZero();
    assertThat(oneDocument(rest.out().lines().findFirst().orElseThrow()).get("seq").asLong())
        .isEqualTo(4);

    Result bad = withApiKey().run("audit", "export", "--from", "yesterday");
    assertThat(bad.exit()).as("%s", bad).isEqualTo(ExitStatus.USAGE);
    assertThat(bad.err()).contains("--from: 'yesterday' is not an instant");
    assertClean(all);
  }

  @Test
  void auditVerifySaysTheChainIsValid() {
    Result result = withApiKey().run("audit", "verify");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out()).matches("valid: \\d+ events checked( \\(0 in the archive\\))?\n");
    assertClean(result);
  }

  @Test
  void theStoredLoginIsUsedByTheNextCommands() {
    Result result = CliRunner.withConfigDir(adminConfig).run("containers", "ls");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("ID  IMAGE  STATE  OWNER  EXPIRES\n");
    assertClean(result);
  }

  @Test
  void lsOnAnEmptyPlatformPrintsTheHeaderOnly() {
    Result result = withApiKey().run("containers", "ls");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("ID  IMAGE  STATE  OWNER  EXPIRES\n");
    assertThat(result.err()).isEmpty();
    assertClean(result);
  }

  @Test
  void lsAsJsonIsOneDocumentAnEmptyList() {
    Result result = withApiKey().run("containers", "ls", "--output", "json");

    assertThat(result.exit()).as("%s", result).isZero();
    JsonNode document = oneDocument(result.out());
    assertThat(document.isArray()).isTrue();
    assertThat(document.size()).isZero();
    assertThat(result.err()).isEmpty();
    assertClean(result);
  }

  @Test
  void aWrongApiKeyIsRefusedWithExitThreeAndIsNeverShown() {
    String wrong = "alk_" + UUID.randomUUID().toString().replace("-", "");
    Result result =
        CliRunner.withConfigDir(freshDir())
            .env("AIRLOCK_URL", url)
            .env("AIRLOCK_API_KEY", wrong)
            .run("containers", "ls");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(result.err()).startsWith("airlock: Unauthenticated");
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.all()).doesNotContain(wrong, wrong.substring(4));
    assertClean(result);
  }

  @Test
  void aWrongPasswordIsRefusedWithExitThree() {
    Result result =
        CliRunner.withConfigDir(freshDir())
            .runWithInput(
                "not the password\n",
                "login",
                "--url",
                url,
                "--username",
                "admin",
                "--password-stdin");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(result.err()).startsWith("airlock: Invalid credentials");
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.all()).doesNotContain("not the password");
  }

  @Test
  void createOfAnUnknownImageIsNotFound() {
    Result result = withApiKey().run("containers", "create", "--image", "no-such-image", "--wait");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.NOT_FOUND);
    assertThat(result.err()).startsWith("airlock: Not found: ").contains("no-such-image");
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.out()).isEmpty();
    assertClean(result);
  }

  @Test
  void createWithoutAnyProvisionerMeansRetryLaterAndShowsRetryAfter() {
    image("chromium");

    Result result =
        withApiKey()
            .run("containers", "create", "--image", "chromium", "--wait", "--output", "json");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.RETRY_LATER);
    assertThat(result.err())
        .startsWith("airlock: No provisioner available")
        .containsPattern("\\(retry after \\d+ s\\)\n$");
    assertThat(result.err().lines()).hasSize(1);
    assertThat(result.out()).isEmpty();
    assertClean(result);
  }

  @Test
  void getOfAnUnknownContainerIsNotFound() {
    Result result = withApiKey().run("containers", "get", UUID.randomUUID().toString());

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.NOT_FOUND);
    assertThat(result.err()).startsWith("airlock: Not found");
    assertClean(result);
  }

  @Test
  void imagesLsShowsTheImagesAsATableOrAsJson() {
    image("firefox");

    Result text = withApiKey().run("images", "ls");
    Result json = withApiKey().run("images", "ls", "-o", "json");

    assertThat(text.exit()).as("%s", text).isZero();
    assertThat(text.out().lines().toList().get(0))
        .matches("NAME +REFERENCE +TTL +WARM +DESCRIPTION");
    assertThat(text.out()).containsPattern("firefox +airlock/agent:dev +1h / 4h +0/0 +made by");
    assertThat(json.exit()).as("%s", json).isZero();
    JsonNode images = oneDocument(json.out());
    assertThat(images.isArray()).isTrue();
    assertThat(images.valueStream().map(i -> i.get("name").asString())).contains("firefox");
    assertClean(text);
    assertClean(json);
  }

  @Test
  void anExpiredAccessTokenIsRefreshedWithTheStoredRefreshToken() throws IOException {
    Path config = loggedInCopy();
    Path file = config.resolve("credentials.json");
    ObjectNode stored = (ObjectNode) JSON.readTree(Files.readString(file));
    String refreshToken = stored.get("refreshToken").asString();
    stored.put("accessTokenExpiresAt", Instant.now().minusSeconds(60).toString());
    Files.writeString(file, JSON.writeValueAsString(stored));

    Result result = CliRunner.withConfigDir(config).run("containers", "ls");

    assertThat(result.exit()).as("%s", result).isZero();
    JsonNode refreshed = JSON.readTree(Files.readString(file));
    assertThat(refreshed.get("refreshToken").asString()).isNotEqualTo(refreshToken);
    assertThat(Instant.parse(refreshed.get("accessTokenExpiresAt").asString()))
        .isAfter(Instant.now().plusSeconds(60));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    assertClean(result);
  }

  @Test
  void commandsRunningAtOnceRefreshTheLoginOnceAndKeepItValid() throws Exception {
    Path config = loggedInCopy();
    Path file = config.resolve("credentials.json");
    ObjectNode stored = (ObjectNode) JSON.readTree(Files.readString(file));
    stored.put("accessTokenExpiresAt", Instant.now().minusSeconds(60).toString());
    Files.writeString(file, JSON.writeValueAsString(stored));

    // Separate processes, as in a shell: a refresh token presented twice would end the session.
    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      processes.add(CliRunner.process(Map.of(), config, "containers", "ls"));
    }
    for (Process process : processes) {
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue())
          .as(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
          .isZero();
    }
    Result after = CliRunner.withConfigDir(config).run("containers", "ls");

    assertThat(after.exit()).as("%s", after).isZero();
  }

  @Test
  void aLoginWhoseRefreshIsRefusedMustLogInAgain() throws IOException {
    Path config = loggedInCopy();
    Path file = config.resolve("credentials.json");
    ObjectNode stored = (ObjectNode) JSON.readTree(Files.readString(file));
    stored.put("accessTokenExpiresAt", Instant.now().minusSeconds(60).toString());
    stored.put("refreshToken", "not-a-refresh-token");
    Files.writeString(file, JSON.writeValueAsString(stored));

    Result result = CliRunner.withConfigDir(config).run("images", "ls");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(result.err())
        .isEqualTo(
            "airlock: the login of cli-user to "
                + url
                + " has expired or was ended: run 'airlock login' again\n");
    assertClean(result);
  }

  @Test
  void aUserWhoMustChooseANewPasswordDoesSoAtLogin() {
    admin
        .users()
        .createUser(
            new UserCreate()
                .username("newcomer")
                .password("initial password 1")
                .roles(List.of("container-user"))
                .passwordChangeRequired(true))
        .block(CALL);
    Path config = freshDir();

    Result withoutNew =
        CliRunner.withConfigDir(config)
            .runWithInput(
                "initial password 1\n",
                "login",
                "--url",
                url,
                "-u",
                "newcomer",
                "--password-stdin");
    Result withNew =
        CliRunner.withConfigDir(config)
            .runWithInput(
                "initial password 1\nchosen password 2\n",
                "login",
                "--url",
                url,
                "-u",
                "newcomer",
                "--password-stdin");
    Result ls = CliRunner.withConfigDir(config).run("containers", "ls");

    assertThat(withoutNew.exit()).as("%s", withoutNew).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(withoutNew.err())
        .isEqualTo(
            "airlock: the platform requires a new password for newcomer: give it on the second"
                + " line of standard input, or log in at a terminal\n");
    assertThat(withNew.exit()).as("%s", withNew).isZero();
    assertThat(ls.exit()).as("%s", ls).isZero();
    assertThat(
            AirlockClient.builder()
                .baseUrl(url)
                .build()
                .login("newcomer", "chosen password 2")
                .block(CALL)
                .getPasswordChangeRequired())
        .isFalse();
  }

  @Test
  void logoutEndsTheSessionOnThePlatformAndForgetsIt() throws IOException {
    Path config = loggedInCopy();
    String accessToken =
        JSON.readTree(Files.readString(config.resolve("credentials.json")))
            .get("accessToken")
            .asString();

    Result logout = CliRunner.withConfigDir(config).run("logout");
    Result after = CliRunner.withConfigDir(config).run("containers", "ls");

    assertThat(logout.exit()).as("%s", logout).isZero();
    assertThat(logout.out()).isEqualTo("Logged out of " + url + " (cli-user).\n");
    assertThat(config.resolve("credentials.json")).doesNotExist();
    assertThatThrownBy(
            () ->
                AirlockClient.builder()
                    .baseUrl(url)
                    .build()
                    .withAccessToken(accessToken)
                    .auth()
                    .getMe()
                    .block(CALL))
        .isInstanceOfSatisfying(
            AirlockProblemException.class, refused -> assertThat(refused.status()).isEqualTo(401));
    assertThat(after.exit()).isEqualTo(ExitStatus.CREDENTIALS);
  }

  @Test
  void asAProcessTheExitStatusAndTheEnvironmentWorkAsForAScript() throws Exception {
    Process ok =
        CliRunner.process(
            Map.of("AIRLOCK_URL", url, "AIRLOCK_API_KEY", apiKey),
            freshDir(),
            "containers",
            "ls",
            "--output",
            "json");
    Process refused =
        CliRunner.process(
            Map.of("AIRLOCK_URL", url, "AIRLOCK_API_KEY", "alk_wrongwrongwrong"),
            freshDir(),
            "containers",
            "ls");

    assertThat(ok.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(refused.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String okOut = new String(ok.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String refusedErr = new String(refused.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ok.exitValue()).as(okOut).isZero();
    assertThat(oneDocument(okOut).isArray()).isTrue();
    assertThat(refused.exitValue()).as(refusedErr).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(refusedErr).startsWith("airlock: Unauthenticated").doesNotContain("wrongwrong");
  }

  /** A user of its own, logged in with the CLI into a fresh configuration directory. */
  private Path loggedInCopy() {
    try {
      admin
          .users()
          .createUser(
              new UserCreate()
                  .username("cli-user")
                  .password("cli user password")
                  .roles(List.of("container-user")))
          .block(CALL);
    } catch (AirlockProblemException exists) {
      if (exists.status() != 409) {
        throw exists;
      }
    }
    Path config = freshDir();
    Result login =
        CliRunner.withConfigDir(config)
            .runWithInput(
                "cli user password\n", "login", "--url", url, "-u", "cli-user", "--password-stdin");
    assertThat(login.exit()).as("%s", login).isZero();
    return config;
  }
}
