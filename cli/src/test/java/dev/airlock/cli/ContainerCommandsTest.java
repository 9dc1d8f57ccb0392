package dev.airlock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.cli.CliRunner.Result;
import dev.airlock.cli.StubPlatform.Reply;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The container commands' output and exit status for each kind of answer a platform may give:
 * ready, failed, never ready, over quota, refused, broken. The platform is a stub here because the
 * real one reaches most of these states only with a provisioner (the contract tests run that); the
 * answers are the API's documented shapes.
 */
class ContainerCommandsTest {

  static final String KEY = "alk_stub_key_never_printed";
  static final String ID = "3f2a6c1e-8d4b-4b8e-9a51-0c1d2e3f4a5b";
  static final String AGENT = "7b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8";
  static final String CONTAINERS = "/api/v1/containers";
  static final String CONTAINER = CONTAINERS + "/" + ID;

  private static final JsonMapper JSON = JsonMapper.builder().build();

  @TempDir Path config;
  private StubPlatform platform;
  private CliRunner cli;

  @BeforeEach
  void start() throws Exception {
    platform = new StubPlatform();
    cli =
        CliRunner.withConfigDir(config)
            .env("AIRLOCK_URL", platform.baseUrl())
            .env("AIRLOCK_API_KEY", KEY);
  }

  @AfterEach
  void stop() {
    platform.close();
  }

  static String container(String state, String extra) {
    return """
        {"id":"%s","image":"chromium","state":"%s","owner":"ci","labels":{"job":"4711"},
         "fromWarmPool":false,"createdAt":"2030-01-01T00:00:00Z",
         "expiresAt":"2030-01-01T00:30:00Z"%s}"""
        .formatted(ID, state, extra);
  }

  /** Answers the container's reads with these states in turn, the last one repeating. */
  private AtomicInteger readsAnswer(String... states) {
    AtomicInteger reads = new AtomicInteger();
    platform.on(
        "GET",
        CONTAINER,
        request -> {
          String state = states[Math.min(reads.getAndIncrement(), states.length - 1)];
          String extra =
              switch (state) {
                case "ready" ->
                    ",\"agentId\":\"" + AGENT + "\",\"readyAt\":\"2030-01-01T00:00:09Z\"";
                case "failed" -> ",\"reason\":\"image pull failed: airlock/chromium:9\"";
                default -> "";
              };
          return Reply.json(200, container(state, extra));
        });
    return reads;
  }

  private void acceptsCreate() {
    platform.on("POST", CONTAINERS, request -> Reply.json(202, container("requested", "")));
  }

  /** Reads standard output as exactly one JSON document, failing on anything after it. */
  static JsonNode oneDocument(String out) {
    return JSON.readerFor(JsonNode.class)
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .readValue(out);
  }

  private static void assertCleanFailure(Result result, int exit) {
    assertThat(result.exit()).as("%s", result).isEqualTo(exit);
    assertThat(result.err()).as("%s", result).doesNotContain("\tat ", "Exception");
    assertThat(result.all()).doesNotContain(KEY, "stub_key");
  }

  @Test
  void createSendsTheImageTtlLabelsVariablesAndIdempotencyKey() {
    acceptsCreate();

    Result result =
        cli.run(
            "containers",
            "create",
            "--image",
            "chromium",
            "--ttl",
            "1h30m",
            "--label",
            "job=4711",
            "--label",
            "team=web",
            "--env",
            "START_URL=https://a.example/?q=1",
            "--idempotency-key",
            "ci-4711");

    assertThat(result.exit()).as("%s", result).isZero();
    StubPlatform.Received sent = platform.received("POST", CONTAINERS).get(0);
    assertThat(sent.header("Idempotency-Key")).isEqualTo("ci-4711");
    assertThat(sent.header("Authorization")).isEqualTo("Bearer " + KEY);
    JsonNode body = JSON.readTree(sent.body());
    assertThat(body.get("image").asString()).isEqualTo("chromium");
    assertThat(body.get("ttlSeconds").asInt()).isEqualTo(5400);
    assertThat(body.get("labels").properties()).hasSize(2);
    assertThat(body.get("labels").get("team").asString()).isEqualTo("web");
    assertThat(body.get("environment").get("START_URL").asString())
        .isEqualTo("https://a.example/?q=1");
    assertThat(result.out()).contains("id:      " + ID, "state:   requested", "expires:");
  }

  @Test
  void createWaitEndsWithTheReadyContainersIdStateAgentAndExpiry() {
    acceptsCreate();
    readsAnswer("provisioning", "ready");

    Result result = cli.run("containers", "create", "--image", "chromium", "--wait");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out())
        .contains(
            "id:      " + ID,
            "state:   ready",
            "agent:   " + AGENT,
            "expires: 2030-01-01T00:30:00Z");
    // Not at a terminal: one progress line per state, on standard error.
    assertThat(result.err().lines())
        .hasSize(3)
        .satisfies(lines -> assertThat(lines.get(0)).startsWith("requested… "))
        .satisfies(lines -> assertThat(lines.get(1)).startsWith("provisioning… "))
        .satisfies(lines -> assertThat(lines.get(2)).startsWith("ready… "));
    assertThat(platform.received("GET", CONTAINER))
        .allSatisfy(r -> assertThat(r.query()).startsWith("wait=ready&timeoutSeconds="));
  }

  @Test
  void createWaitWithJsonPrintsExactlyOneDocumentTheReadyContainer() {
    acceptsCreate();
    readsAnswer("starting", "ready");

    Result result =
        cli.run("containers", "create", "--image", "chromium", "--wait", "--output", "json");

    assertThat(result.exit()).as("%s", result).isZero();
    JsonNode document = oneDocument(result.out());
    assertThat(document.get("id").asString()).isEqualTo(ID);
    assertThat(document.get("state").asString()).isEqualTo("ready");
    assertThat(document.get("agentId").asString()).isEqualTo(AGENT);
    assertThat(document.get("expiresAt").asString()).isEqualTo("2030-01-01T00:30:00Z");
    assertThat(oneDocument(result.out()).isObject()).isTrue();
  }

  @Test
  void aContainerThatFailsExitsWithSixAndItsReason() {
    acceptsCreate();
    readsAnswer("provisioning", "failed");

    Result result =
        cli.run("containers", "create", "--image", "chromium", "--wait", "--output", "json");

    assertCleanFailure(result, ExitStatus.CONTAINER_FAILED);
    assertThat(result.err())
        .endsWith("airlock: container " + ID + " failed: image pull failed: airlock/chromium:9\n");
    // The script still gets the container, to log or delete it.
    assertThat(oneDocument(result.out()).get("state").asString()).isEqualTo("failed");
  }

  @Test
  void aContainerNotReadyInTimeExitsWithSevenAndItsLastState() {
    acceptsCreate();
    readsAnswer("provisioning");

    Result result =
        cli.run(
            "containers",
            "create",
            "--image",
            "chromium",
            "--wait",
            "--timeout",
            "2s",
            "--output",
            "json");

    assertCleanFailure(result, ExitStatus.TIMED_OUT);
    assertThat(result.err())
        .contains(
            "airlock: container " + ID + " is not ready after 2s (last state: provisioning)",
            "airlock containers rm " + ID);
    assertThat(oneDocument(result.out()).get("id").asString()).isEqualTo(ID);
  }

  @Test
  void getWaitWaitsForAnExistingContainer() {
    readsAnswer("starting", "ready");

    Result result = cli.run("containers", "get", ID, "--wait", "--timeout", "30s");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out()).contains("state:   ready", "agent:   " + AGENT);
  }

  @Test
  void rmWaitWaitsUntilTheContainerIsDeleted() {
    platform.on("DELETE", CONTAINER, request -> Reply.json(202, container("stopping", "")));
    readsAnswer("deleted");

    Result result = cli.run("containers", "rm", ID, "--wait", "--output", "json");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(oneDocument(result.out()).get("state").asString()).isEqualTo("deleted");
    assertThat(platform.received("DELETE", CONTAINER)).hasSize(1);
  }

  @Test
  void overQuotaMeansRetryLater() {
    platform.on(
        "POST",
        CONTAINERS,
        request ->
            Reply.problem(
                429,
                "urn:airlock:problem:quota-exceeded",
                "Container quota exceeded",
                "ci holds 5 containers (at most 5)"));

    Result result = cli.run("containers", "create", "--image", "chromium");

    assertCleanFailure(result, ExitStatus.RETRY_LATER);
    assertThat(result.err())
        .isEqualTo(
            "airlock: Container quota exceeded: ci holds 5 containers (at most 5) (retry later)\n");
  }

  @Test
  void noProvisionerMeansRetryLaterAndShowsRetryAfter() {
    platform.on(
        "POST",
        CONTAINERS,
        request ->
            Reply.problem(
                503,
                "urn:airlock:problem:provisioning-unavailable",
                "No provisioner available",
                "No container can be started now: no provisioner is registered",
                Map.of("Retry-After", "30")));

    Result result = cli.run("containers", "create", "--image", "chromium", "-o", "json");

    assertCleanFailure(result, ExitStatus.RETRY_LATER);
    assertThat(result.out()).isEmpty();
    assertThat(result.err())
        .isEqualTo(
            "airlock: No provisioner available: No container can be started now: no provisioner"
                + " is registered (retry after 30 s)\n");
  }

  @Test
  void aForbiddenCallMeansCredentialsRefused() {
    platform.on(
        "GET",
        CONTAINERS,
        request ->
            Reply.problem(
                403, "urn:airlock:problem:forbidden", "Forbidden", "container:list not allowed"));

    assertCleanFailure(cli.run("containers", "ls", "--all"), ExitStatus.CREDENTIALS);
  }

  @Test
  void anInvalidValueThePlatformRefusesIsAUsageError() {
    platform.on(
        "POST",
        CONTAINERS,
        request ->
            Reply.problem(
                400,
                "urn:airlock:problem:validation",
                "Invalid request",
                "ttlSeconds: 30 (expected: 60..86400)"));

    Result result = cli.run("containers", "create", "--image", "chromium", "--ttl", "30s");

    assertCleanFailure(result, ExitStatus.USAGE);
    assertThat(result.err())
        .isEqualTo("airlock: Invalid request: ttlSeconds: 30 (expected: 60..86400)\n");
  }

  @Test
  void anInternalErrorIsUnexpectedAndSuggestsDebug() {
    platform.on(
        "GET",
        CONTAINERS,
        request ->
            Reply.problem(500, "urn:airlock:problem:internal", "Internal error", "see req-42"));

    Result result = cli.run("containers", "ls");

    assertCleanFailure(result, ExitStatus.UNEXPECTED);
    assertThat(result.err())
        .isEqualTo(
            "airlock: Internal error: see req-42 (run the command again with --debug for"
                + " details)\n");
  }

  @Test
  void aProxysErrorPageMeansRetryLater() {
    platform.on(
        "GET",
        CONTAINERS,
        request -> new Reply(502, "text/html", Map.of(), "<html>Bad gateway</html>"));

    Result result = cli.run("containers", "ls");

    assertCleanFailure(result, ExitStatus.RETRY_LATER);
    assertThat(result.err()).startsWith("airlock: Bad Gateway: <html>Bad gateway</html>");
  }

  @Test
  void aSecretEchoedByThePlatformIsMasked() {
    platform.on(
        "GET",
        CONTAINERS,
        request ->
            Reply.problem(
                401,
                "urn:airlock:problem:unauthenticated",
                "Unauthenticated",
                "unknown API key "
                    + KEY
                    + " or token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl or alr_Wb4JUYg6iElXun2z"));

    Result result = cli.run("containers", "ls");

    assertCleanFailure(result, ExitStatus.CREDENTIALS);
    assertThat(result.err())
        .contains("unknown API key *** or token *** or alr_***")
        .doesNotContain("eyJ", "Wb4JUYg6");
  }

  @Test
  void lsFollowsEveryPage() {
    AtomicInteger pages = new AtomicInteger();
    platform.on(
        "GET",
        CONTAINERS,
        request ->
            pages.getAndIncrement() == 0
                ? Reply.json(
                    200, "{\"items\":[" + container("ready", "") + "],\"nextCursor\":\"c2\"}")
                : Reply.json(200, "{\"items\":[" + container("starting", "") + "]}"));

    Result result = cli.run("containers", "ls");

    assertThat(result.exit()).as("%s", result).isZero();
    List<String> lines = result.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).matches("ID +IMAGE +STATE +OWNER +EXPIRES");
    assertThat(lines.get(1)).matches(ID + " +chromium +ready +ci +2030-01-01T00:30:00Z");
    assertThat(platform.received("GET", CONTAINERS))
        .extracting(StubPlatform.Received::query)
        .containsExactly("active=true&limit=100", "active=true&limit=100&cursor=c2");
  }
}
