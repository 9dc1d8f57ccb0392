package dev.airlock.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.sdk.ContainerLauncher.ContainerFailedException;
import dev.airlock.sdk.ContainerLauncher.ContainerTimeoutException;
import dev.airlock.sdk.StubPlatform.Reply;
import dev.airlock.sdk.model.Container;
import dev.airlock.sdk.model.ContainerCreate;
import dev.airlock.sdk.model.ContainerState;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** The launcher over real HTTP against a stub platform: what it sends and how it reads answers. */
class ContainerLauncherTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final UUID ID = UUID.fromString("3f2a6c1e-8d4b-4b8e-9a51-0c1d2e3f4a5b");
  private static final UUID AGENT = UUID.fromString("7b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8");
  private static final String CONTAINERS = "/api/v1/containers";
  private static final String CONTAINER = CONTAINERS + "/" + ID;

  private final StubPlatform platform = new StubPlatform();

  @AfterEach
  void stop() {
    platform.close();
  }

  private ContainerLauncher launcher() {
    return ContainerLauncher.of(
        AirlockClient.builder().baseUrl(platform.baseUrl()).build().withApiKey("alk_test"));
  }

  static String container(String state, String extra) {
    return """
        {"id":"%s","image":"chromium","state":"%s","owner":"ci","labels":{"job":"4711"},
         "fromWarmPool":false,"createdAt":"2030-01-01T00:00:00Z",
         "expiresAt":"2030-01-01T00:30:00Z"%s}"""
        .formatted(ID, state, extra);
  }

  @Test
  void launchSendsTheRequestAndTheIdempotencyKey() {
    platform.on("POST", CONTAINERS, request -> Reply.json(202, container("requested", "")));

    Container accepted =
        launcher()
            .launch(
                new ContainerCreate()
                    .image("chromium")
                    .ttlSeconds(1800)
                    .labels(Map.of("job", "4711")),
                "ci-build-4711")
            .block(TIMEOUT);

    assertThat(accepted.getId()).isEqualTo(ID);
    assertThat(accepted.getState()).isEqualTo(ContainerState.REQUESTED);
    StubPlatform.Received sent = platform.received("POST", CONTAINERS).get(0);
    assertThat(sent.header("Idempotency-Key")).isEqualTo("ci-build-4711");
    assertThat(sent.header("Authorization")).isEqualTo("Bearer alk_test");
    assertThat(sent.body())
        .isEqualTo("{\"image\":\"chromium\",\"ttlSeconds\":1800,\"labels\":{\"job\":\"4711\"}}");
  }

  @Test
  void launchWithoutAKeySendsNoIdempotencyHeader() {
    platform.on("POST", CONTAINERS, request -> Reply.json(202, container("requested", "")));

    launcher().launch(new ContainerCreate().image("chromium"), null).block(TIMEOUT);

    assertThat(platform.received("POST", CONTAINERS).get(0).header("Idempotency-Key")).isNull();
  }

  @Test
  void aLaunchNoProvisionerCanTakeFailsWithTheProblemAndItsRetryAfter() {
    platform.on(
        "POST",
        CONTAINERS,
        request ->
            Reply.problem(
                503,
                """
                {"type":"urn:airlock:problem:provisioning-unavailable",
                 "title":"No provisioner available","status":503,
                 "detail":"no provisioner is registered"}""",
                Map.of("Retry-After", "30")));

    StepVerifier.create(launcher().launch(new ContainerCreate().image("chromium"), null))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        AirlockProblemException.class,
                        problem -> {
                          assertThat(problem.problemType())
                              .isEqualTo("urn:airlock:problem:provisioning-unavailable");
                          assertThat(problem.retryAfter()).contains(Duration.ofSeconds(30));
                        }))
        .verify(TIMEOUT);
    // Creating is not idempotent without a key: the launcher never sends it twice by itself.
    assertThat(platform.received("POST", CONTAINERS)).hasSize(1);
  }

  @Test
  void awaitReadyLongPollsAndReportsEachStateUntilReady() {
    List<String> answers = List.of("provisioning", "starting", "ready");
    AtomicInteger polls = new AtomicInteger();
    platform.on(
        "GET",
        CONTAINER,
        request -> {
          int n = Math.min(polls.getAndIncrement(), answers.size() - 1);
          String state = answers.get(n);
          return Reply.json(
              200, container(state, state.equals("ready") ? ",\"agentId\":\"" + AGENT + "\"" : ""));
        });
    List<ContainerState> seen = new CopyOnWriteArrayList<>();

    Container ready =
        launcher()
            .awaitReady(ID, Duration.ofSeconds(15), c -> seen.add(c.getState()))
            .block(TIMEOUT);

    assertThat(ready.getState()).isEqualTo(ContainerState.READY);
    assertThat(ready.getAgentId()).isEqualTo(AGENT);
    assertThat(seen)
        .containsExactly(
            ContainerState.PROVISIONING, ContainerState.STARTING, ContainerState.READY);
    assertThat(platform.received("GET", CONTAINER))
        .hasSize(3)
        .allSatisfy(r -> assertThat(r.header("Authorization")).isEqualTo("Bearer alk_test"));
  }

  @Test
  void aFailedContainerEndsTheWaitWithItsReason() {
    platform.on(
        "GET",
        CONTAINER,
        request -> Reply.json(200, container("failed", ",\"reason\":\"image pull failed\"")));

    StepVerifier.create(launcher().awaitReady(ID, Duration.ofSeconds(15), null))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        ContainerFailedException.class,
                        failed -> {
                          assertThat(failed.reason()).isEqualTo("image pull failed");
                          assertThat(failed.container().getState())
                              .isEqualTo(ContainerState.FAILED);
                          assertThat(failed.getMessage())
                              .contains(ID.toString(), "failed", "image pull failed");
                        }))
        .verify(TIMEOUT);
  }

  @Test
  void aContainerThatNeverBecomesReadyTimesOutWithItsLastState() {
    // The stub answers at once (a real platform would hold each poll): the launcher still spaces
    // its polls, so this takes about two seconds and a handful of requests.
    platform.on("GET", CONTAINER, request -> Reply.json(200, container("provisioning", "")));

    StepVerifier.create(launcher().awaitReady(ID, Duration.ofMillis(1500), null))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        ContainerTimeoutException.class,
                        timedOut -> {
                          assertThat(timedOut.id()).isEqualTo(ID);
                          assertThat(timedOut.container().getState())
                              .isEqualTo(ContainerState.PROVISIONING);
                          assertThat(timedOut.timeout()).isEqualTo(Duration.ofMillis(1500));
                        }))
        .verify(TIMEOUT);
    assertThat(platform.received("GET", CONTAINER)).hasSizeBetween(2, 3);
  }

  @Test
  void anUnknownContainerFailsAtOnceWithNotFound() {
    platform.on(
        "GET",
        CONTAINER,
        request ->
            Reply.problem(
                404,
                """
                {"type":"urn:airlock:problem:not-found","title":"Not found","status":404,
                 "detail":"container %s"}"""
                    .formatted(ID),
                Map.of()));

    StepVerifier.create(launcher().awaitReady(ID, Duration.ofSeconds(15), null))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        AirlockProblemException.class,
                        problem ->
                            assertThat(problem.problemType())
                                .isEqualTo("urn:airlock:problem:not-found")))
        .verify(TIMEOUT);
    assertThat(platform.received("GET", CONTAINER)).hasSize(1);
  }
}
