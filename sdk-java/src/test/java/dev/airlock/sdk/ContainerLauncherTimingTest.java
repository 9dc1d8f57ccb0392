package dev.airlock.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.sdk.ContainerLauncher.ContainerTimeoutException;
import dev.airlock.sdk.api.ContainersApi;
import dev.airlock.sdk.invoker.ApiClient;
import dev.airlock.sdk.model.Container;
import dev.airlock.sdk.model.ContainerCreate;
import dev.airlock.sdk.model.ContainerState;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The launcher's timing with virtual time: how long each long poll asks for, when the deadline ends
 * the wait, and how failed polls are retried. The platform is a scripted {@link ContainersApi} that
 * holds each poll as the real one does.
 */
class ContainerLauncherTimingTest {

  private static final UUID ID = UUID.fromString("3f2a6c1e-8d4b-4b8e-9a51-0c1d2e3f4a5b");
  private static final Duration VERIFY = Duration.ofSeconds(10);

  /** One poll as the scripted platform received it: when, and the timeoutSeconds asked for. */
  record Poll(long atMillis, Integer timeoutSeconds) {}

  /** Answers each poll with the script's answer for its index (the last one repeating). */
  static final class ScriptedContainers extends ContainersApi {

    final List<Poll> polls = new ArrayList<>();
    final List<Function<Integer, Mono<Container>>> script;
    Container accepted = container(ContainerState.REQUESTED);
    int creates;

    ScriptedContainers(List<Function<Integer, Mono<Container>>> script) {
      super(new ApiClient());
      this.script = script;
    }

    @Override
    public Mono<Container> getContainer(UUID containerId, String wait, Integer timeoutSeconds) {
      return Mono.defer(
          () -> {
            assertThat(containerId).isEqualTo(ID);
            assertThat(wait).isEqualTo("ready");
            polls.add(
                new Poll(
                    Schedulers.parallel().now(java.util.concurrent.TimeUnit.MILLISECONDS),
                    timeoutSeconds));
            int n = Math.min(polls.size() - 1, script.size() - 1);
            return script.get(n).apply(timeoutSeconds);
          });
    }

    @Override
    public Mono<Container> createContainer(ContainerCreate request, String idempotencyKey) {
      return Mono.fromSupplier(
          () -> {
            creates++;
            return accepted;
          });
    }
  }

  static Container container(ContainerState state) {
    return new Container()
        .id(ID)
        .image("chromium")
        .state(state)
        .owner("ci")
        .fromWarmPool(false)
        .createdAt(OffsetDateTime.parse("2030-01-01T00:00:00Z"))
        .expiresAt(OffsetDateTime.parse("2030-01-01T00:30:00Z"));
  }

  /** Holds the poll for its whole timeoutSeconds, then answers in {@code state}. */
  static Function<Integer, Mono<Container>> heldThen(ContainerState state) {
    return seconds -> Mono.delay(Duration.ofSeconds(seconds)).thenReturn(container(state));
  }

  /** Answers at once. */
  static Function<Integer, Mono<Container>> answers(ContainerState state) {
    return seconds -> Mono.just(container(state));
  }

  static Function<Integer, Mono<Container>> fails(Throwable error) {
    return seconds -> Mono.error(error);
  }

  static WebClientRequestException unreachable() {
    return new WebClientRequestException(
        new IOException("Connection refused"),
        HttpMethod.GET,
        URI.create("http://127.0.0.1:1/api/v1/containers/" + ID),
        HttpHeaders.EMPTY);
  }

  static AirlockProblemException problem(int status, String type, String retryAfter) {
    HttpHeaders headers = new HttpHeaders();
    headers.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    if (retryAfter != null) {
      headers.set(HttpHeaders.RETRY_AFTER, retryAfter);
    }
    String body = "{\"type\":\"%s\",\"title\":\"t\",\"status\":%d}".formatted(type, status);
    return AirlockProblemException.of(
        HttpMethod.GET,
        URI.create("http://127.0.0.1/api/v1/containers/" + ID),
        HttpStatusCode.valueOf(status),
        headers,
        body.getBytes(StandardCharsets.UTF_8),
        AirlockClient.defaultMapper());
  }

  @Test
  void eachLongPollAsksForTheTimeLeftAtMostTheLongPollAndTheDeadlineEndsTheWait() {
    ScriptedContainers api = new ScriptedContainers(List.of(heldThen(ContainerState.PROVISIONING)));
    ContainerLauncher launcher = ContainerLauncher.of(api);

    StepVerifier.withVirtualTime(() -> launcher.awaitReady(ID, Duration.ofSeconds(60), null))
        .thenAwait(Duration.ofSeconds(61))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        ContainerTimeoutException.class,
                        timedOut -> {
                          assertThat(timedOut.container().getState())
                              .isEqualTo(ContainerState.PROVISIONING);
                          assertThat(timedOut.getCause()).isNull();
                        }))
        .verify(VERIFY);

    assertThat(api.polls)
        .containsExactly(new Poll(0, 25), new Poll(25_000, 25), new Poll(50_000, 10));
  }

  @Test
  void aShorterLongPollIsHonoured() {
    ScriptedContainers api = new ScriptedContainers(List.of(heldThen(ContainerState.STARTING)));
    ContainerLauncher launcher = ContainerLauncher.of(api).withLongPoll(Duration.ofSeconds(10));

    StepVerifier.withVirtualTime(() -> launcher.awaitReady(ID, Duration.ofSeconds(25), null))
        .thenAwait(Duration.ofSeconds(26))
        .expectError(ContainerTimeoutException.class)
        .verify(VERIFY);

    assertThat(api.polls).extracting(Poll::timeoutSeconds).containsExactly(10, 10, 5);
  }

  @Test
  void transientFailuresAreRetriedWithBackoffWithinTheDeadline() {
    ScriptedContainers api =
        new ScriptedContainers(
            List.of(
                fails(unreachable()),
                fails(problem(502, "about:blank", null)),
                answers(ContainerState.READY)));
    List<ContainerState> seen = new ArrayList<>();

    StepVerifier.withVirtualTime(
            () ->
                ContainerLauncher.of(api)
                    .awaitReady(ID, Duration.ofMinutes(1), c -> seen.add(c.getState())))
        .thenAwait(Duration.ofSeconds(5))
        .assertNext(ready -> assertThat(ready.getState()).isEqualTo(ContainerState.READY))
        .verifyComplete();

    assertThat(seen).containsExactly(ContainerState.READY);
    assertThat(api.polls).hasSize(3);
    long firstGap = api.polls.get(1).atMillis() - api.polls.get(0).atMillis();
    long secondGap = api.polls.get(2).atMillis() - api.polls.get(1).atMillis();
    // 250 ms, then 500 ms, each with up to half taken off as jitter.
    assertThat(firstGap).isBetween(125L, 250L);
    assertThat(secondGap).isBetween(250L, 500L);
  }

  @Test
  void aRetryWaitsAtLeastTheRetryAfterThePlatformAskedFor() {
    ScriptedContainers api =
        new ScriptedContainers(
            List.of(
                fails(problem(503, "urn:airlock:problem:unavailable", "7")),
                answers(ContainerState.READY)));

    StepVerifier.withVirtualTime(
            () -> ContainerLauncher.of(api).awaitReady(ID, Duration.ofMinutes(1), null))
        .thenAwait(Duration.ofSeconds(8))
        .expectNextCount(1)
        .verifyComplete();

    assertThat(api.polls.get(1).atMillis()).isEqualTo(7_000);
  }

  @Test
  void whenPollsKeepFailingTheDeadlineEndsTheWaitWithTheLastFailureAsCause() {
    ScriptedContainers api = new ScriptedContainers(List.of(fails(unreachable())));

    StepVerifier.withVirtualTime(
            () -> ContainerLauncher.of(api).awaitReady(ID, Duration.ofSeconds(20), null))
        .thenAwait(Duration.ofSeconds(21))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        ContainerTimeoutException.class,
                        timedOut -> {
                          assertThat(timedOut.container()).isNull();
                          assertThat(timedOut.getCause())
                              .isInstanceOf(WebClientRequestException.class);
                        }))
        .verify(VERIFY);
    // Backoff doubles up to 5 s: a handful of attempts in 20 s, not a tight loop.
    assertThat(api.polls).hasSizeBetween(5, 12);
  }

  @Test
  void aRefusalIsNotRetried() {
    ScriptedContainers api =
        new ScriptedContainers(
            List.of(fails(problem(401, "urn:airlock:problem:unauthenticated", null))));

    StepVerifier.withVirtualTime(
            () -> ContainerLauncher.of(api).awaitReady(ID, Duration.ofMinutes(1), null))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        AirlockProblemException.class,
                        problem -> assertThat(problem.status()).isEqualTo(401)))
        .verify(VERIFY);
    assertThat(api.polls).hasSize(1);
  }

  @Test
  void aPollThePlatformNeverAnswersIsAbandonedAndSentAgain() {
    ScriptedContainers api =
        new ScriptedContainers(List.of(seconds -> Mono.never(), answers(ContainerState.READY)));

    StepVerifier.withVirtualTime(
            () -> ContainerLauncher.of(api).awaitReady(ID, Duration.ofMinutes(2), null))
        .thenAwait(Duration.ofSeconds(40))
        .expectNextCount(1)
        .verifyComplete();

    assertThat(api.polls).hasSize(2);
    // Given up after its 25 s plus 10 s of grace, then retried after a short backoff.
    assertThat(api.polls.get(1).atMillis()).isBetween(35_125L, 35_250L);
  }

  @Test
  void launchAndAwaitReadyReportsTheAcceptedStateAndCountsTheTimeoutFromTheStart() {
    ScriptedContainers api = new ScriptedContainers(List.of(heldThen(ContainerState.PROVISIONING)));
    List<ContainerState> seen = new ArrayList<>();

    StepVerifier.withVirtualTime(
            () ->
                ContainerLauncher.of(api)
                    .launchAndAwaitReady(
                        new ContainerCreate().image("chromium"),
                        "k",
                        Duration.ofSeconds(30),
                        c -> seen.add(c.getState())))
        .thenAwait(Duration.ofSeconds(31))
        .expectError(ContainerTimeoutException.class)
        .verify(VERIFY);

    assertThat(api.creates).isEqualTo(1);
    assertThat(seen).containsExactly(ContainerState.REQUESTED, ContainerState.PROVISIONING);
    assertThat(api.polls).extracting(Poll::timeoutSeconds).containsExactly(25, 5);
  }

  @Test
  void aContainerHandedOutReadyFromTheWarmPoolNeedsNoPoll() {
    ScriptedContainers api = new ScriptedContainers(List.of(answers(ContainerState.READY)));
    api.accepted = container(ContainerState.READY).fromWarmPool(true);

    StepVerifier.withVirtualTime(
            () ->
                ContainerLauncher.of(api)
                    .launchAndAwaitReady(
                        new ContainerCreate().image("chromium"), null, Duration.ofMinutes(1), null))
        .assertNext(ready -> assertThat(ready.getFromWarmPool()).isTrue())
        .verifyComplete();

    assertThat(api.polls).isEmpty();
  }

  @Test
  void longPollOutsideTheRangeThePlatformAcceptsIsRefused() {
    ContainerLauncher launcher = ContainerLauncher.of(new ScriptedContainers(List.of()));

    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> launcher.withLongPoll(Duration.ofSeconds(61)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: PT1S..PT60S");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> launcher.awaitReady(ID, Duration.ZERO, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("timeout: PT0S");
  }
}
