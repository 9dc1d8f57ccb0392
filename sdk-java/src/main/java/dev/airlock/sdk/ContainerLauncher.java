package dev.airlock.sdk;

import dev.airlock.sdk.api.ContainersApi;
import dev.airlock.sdk.model.Container;
import dev.airlock.sdk.model.ContainerCreate;
import dev.airlock.sdk.model.ContainerState;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * Launches ephemeral containers and waits until they are ready: the common flow on top of {@link
 * AirlockClient#containers()}.
 *
 * <p>{@link #awaitReady(UUID, Duration, Consumer)} long-polls {@code GET
 * /api/v1/containers/{id}?wait=ready&timeoutSeconds=N}, with N the time left, at most {@link
 * #longPoll()}, until the container is {@code ready}, ends ({@code failed} or {@code deleted}) or
 * the deadline passes. A poll that fails for a transient reason (the platform unreachable, a
 * response timeout, 502, 503 or 504) is sent again after a backoff with jitter (at least the {@code
 * Retry-After} the platform asked for) as long as the deadline allows: the read is idempotent.
 *
 * <p>Every method is lazy and non-blocking; time is measured on {@link Schedulers#parallel()}, so
 * the waits can be tested with virtual time. Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * ContainerLauncher launcher = ContainerLauncher.of(airlock);
 * launcher.launch(new ContainerCreate().image("chromium"), "ci-build-4711")
 *     .flatMap(c -> launcher.awaitReady(c.getId(), Duration.ofMinutes(5),
 *         progress -> System.err.println(progress.getState())))
 *     .subscribe(ready -> System.out.println("connect to agent " + ready.getAgentId()));
 * }</pre>
 */
public final class ContainerLauncher {

  /**
   * The default longest single long poll: below the SDK's default 30 s response timeout, so that a
   * poll the platform holds for its full time is not cut off by the client first.
   */
  public static final Duration DEFAULT_LONG_POLL = Duration.ofSeconds(25);

  /** The longest long poll the platform accepts ({@code timeoutSeconds} maximum). */
  public static final Duration MAX_LONG_POLL = Duration.ofSeconds(60);

  /**
   * The least time between the starts of two polls. The platform holds a poll until the container
   * is ready or ends, so an early answer in a waiting state comes only from a misbehaving server or
   * proxy; this keeps such a server from being polled in a tight loop.
   */
  static final Duration MIN_POLL_SPACING = Duration.ofSeconds(1);

  /** How much longer than its {@code timeoutSeconds} one poll may take before it counts as lost. */
  static final Duration POLL_GRACE = Duration.ofSeconds(10);

  static final Duration FIRST_BACKOFF = Duration.ofMillis(250);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private static final String WAIT_READY = "ready";

  private final ContainersApi containers;
  private final Duration longPoll;

  private ContainerLauncher(ContainersApi containers, Duration longPoll) {
    this.containers = Objects.requireNonNull(containers, "containers");
    this.longPoll = longPoll;
  }

  /** A launcher calling the platform with the client's credentials. */
  public static ContainerLauncher of(AirlockClient airlock) {
    return of(airlock.containers());
  }

  /** A launcher calling the platform through the given generated API. */
  public static ContainerLauncher of(ContainersApi containers) {
    return new ContainerLauncher(containers, DEFAULT_LONG_POLL);
  }

  /**
   * Returns a launcher whose single long polls last at most {@code longPoll} (whole seconds, 1 s to
   * {@link #MAX_LONG_POLL}); keep it below the HTTP client's response timeout.
   *
   * @throws IllegalArgumentException if it is out of range
   */
  public ContainerLauncher withLongPoll(Duration longPoll) {
    if (longPoll == null
        || longPoll.compareTo(Duration.ofSeconds(1)) < 0
        || longPoll.compareTo(MAX_LONG_POLL) > 0) {
      throw new IllegalArgumentException(
          "longPoll: " + longPoll + " (expected: PT1S..PT60S, whole seconds)");
    }
    return new ContainerLauncher(containers, Duration.ofSeconds(longPoll.toSeconds()));
  }

  /** The longest single long poll. */
  public Duration longPoll() {
    return longPoll;
  }

  /**
   * Asks for a container ({@code POST /api/v1/containers}); the platform answers at once, usually
   * before it is ready ({@code requested}, or {@code ready} when handed out from the warm pool).
   *
   * <p>Not retried here. With an {@code idempotencyKey} (any printable ASCII, at most 128
   * characters, e.g. a CI job id; kept 24 hours), sending the same request again returns the
   * container the first one created, so a caller can retry it safely.
   *
   * @param idempotencyKey {@code null} for none
   * @return the container as accepted; fails with an {@link AirlockProblemException}: {@code
   *     urn:airlock:problem:not-found} (no such image), {@code …:quota-exceeded} (429), {@code
   *     …:provisioning-unavailable} (503, see {@link AirlockProblemException#retryAfter()}), …
   */
  public Mono<Container> launch(ContainerCreate request, String idempotencyKey) {
    Objects.requireNonNull(request, "request");
    return Mono.defer(() -> containers.createContainer(request, idempotencyKey));
  }

  /**
   * Waits until the container is {@code ready}, reporting every state it is seen in to {@code
   * onProgress} (the first one seen, then each change), on the thread that received it.
   *
   * @param timeout how long to wait in all (positive)
   * @return the ready container; fails with a {@link ContainerFailedException} when it ends instead
   *     ({@code failed} with its reason, or {@code deleted}), a {@link ContainerTimeoutException}
   *     carrying the last state seen when the timeout passes first, or an {@link
   *     AirlockProblemException} (e.g. {@code urn:airlock:problem:not-found}) when the platform
   *     refuses the read
   */
  public Mono<Container> awaitReady(UUID id, Duration timeout, Consumer<Container> onProgress) {
    Objects.requireNonNull(id, "id");
    requirePositive(timeout);
    Consumer<Container> progress = onProgress == null ? c -> {} : onProgress;
    return Mono.defer(() -> new Wait(id, timeout, now() + timeout.toMillis(), progress).poll(null));
  }

  /**
   * Launches a container and waits until it is ready: {@link #launch(ContainerCreate, String)},
   * then {@link #awaitReady(UUID, Duration, Consumer)} within what is left of {@code timeout},
   * reporting the accepted state first.
   */
  public Mono<Container> launchAndAwaitReady(
      ContainerCreate request,
      String idempotencyKey,
      Duration timeout,
      Consumer<Container> onProgress) {
    requirePositive(timeout);
    Consumer<Container> progress = onProgress == null ? c -> {} : onProgress;
    return Mono.defer(
        () -> {
          long deadline = now() + timeout.toMillis();
          return launch(request, idempotencyKey)
              .flatMap(
                  accepted -> {
                    progress.accept(accepted);
                    return new Wait(accepted.getId(), timeout, deadline, progress)
                        .settle(accepted, now());
                  });
        });
  }

  private static void requirePositive(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "timeout: " + timeout + " (expected: a positive duration)");
    }
  }

  private static long now() {
    return Schedulers.parallel().now(TimeUnit.MILLISECONDS);
  }

  /** Whether a failed poll may simply be sent again. */
  static boolean isTransient(Throwable error) {
    if (error instanceof AirlockProblemException problem) {
      int status = problem.status();
      return status == 502 || status == 503 || status == 504;
    }
    return error instanceof WebClientRequestException || error instanceof TimeoutException;
  }

  /** One wait for one container: its deadline and the last state seen. */
  private final class Wait {

    private final UUID id;
    private final Duration timeout;
    private final long deadline;
    private final Consumer<Container> progress;

    Wait(UUID id, Duration timeout, long deadline, Consumer<Container> progress) {
      this.id = id;
      this.timeout = timeout;
      this.deadline = deadline;
      this.progress = progress;
    }

    Mono<Container> poll(Container last) {
      long started = now();
      long remaining = deadline - started;
      if (remaining <= 0) {
        return Mono.error(new ContainerTimeoutException(id, last, timeout, null));
      }
      long seconds = Math.min(longPoll.toSeconds(), Math.max(1, (remaining + 999) / 1000));
      return containers
          .getContainer(id, WAIT_READY, (int) seconds)
          .timeout(Duration.ofSeconds(seconds).plus(POLL_GRACE))
          .retryWhen(Retry.from(signals -> signals.concatMap(this::retryAfter)))
          .onErrorMap(
              DeadlineReached.class,
              reached -> new ContainerTimeoutException(id, last, timeout, reached.getCause()))
          .flatMap(
              container -> {
                if (last == null || last.getState() != container.getState()) {
                  progress.accept(container);
                }
                return settle(container, started + MIN_POLL_SPACING.toMillis());
              });
    }

    /**
     * Ends the wait on a ready or ended container, or polls again, not before {@code earliestPoll}.
     */
    Mono<Container> settle(Container container, long earliestPoll) {
      ContainerState state = container.getState();
      if (state == ContainerState.READY) {
        return Mono.just(container);
      }
      if (state == ContainerState.FAILED || state == ContainerState.DELETED) {
        return Mono.error(new ContainerFailedException(container));
      }
      long pause = earliestPoll - now();
      Mono<Container> next = Mono.defer(() -> poll(container));
      return pause > 0 ? Mono.delay(Duration.ofMillis(pause)).then(next) : next;
    }

    private Mono<Long> retryAfter(Retry.RetrySignal signal) {
      Throwable error = signal.failure();
      if (!isTransient(error)) {
        return Mono.error(error);
      }
      long backoff =
          Math.min(
              MAX_BACKOFF.toMillis(),
              FIRST_BACKOFF.toMillis() << Math.min(16, signal.totalRetriesInARow()));
      long jittered = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
      if (error instanceof AirlockProblemException problem) {
        jittered = Math.max(jittered, problem.retryAfter().map(Duration::toMillis).orElse(0L));
      }
      if (now() + jittered >= deadline) {
        return Mono.error(new DeadlineReached(error));
      }
      return Mono.delay(Duration.ofMillis(jittered));
    }
  }

  /** The deadline came while polls were failing transiently; the cause is the last failure. */
  private static final class DeadlineReached extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeadlineReached(Throwable cause) {
      super(cause.toString(), cause, false, false);
    }
  }

  /**
   * The container ended before it was ready: it {@code failed} (see {@link #reason()}) or was
   * {@code deleted} (by its owner, an admin, or the reaper).
   */
  public static final class ContainerFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Container container;

    ContainerFailedException(Container container) {
      super(
          "container "
              + container.getId()
              + " is "
              + container.getState()
              + (container.getReason() == null ? "" : ": " + container.getReason()));
      this.container = container;
    }

    /** The container as last read, in state {@code failed} or {@code deleted}. */
    public Container container() {
      return container;
    }

    /** Why it failed or was deleted, as the platform says, or {@code null} if it gave no reason. */
    public String reason() {
      return container.getReason();
    }
  }

  /** The container was not ready when the wait's timeout passed; it may still become ready. */
  public static final class ContainerTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final UUID id;
    private final transient Container container;
    private final Duration timeout;

    ContainerTimeoutException(UUID id, Container container, Duration timeout, Throwable cause) {
      super(
          "container "
              + id
              + " not ready within "
              + timeout
              + (container == null ? "" : " (last state: " + container.getState() + ")")
              + (cause == null ? "" : " (last poll failed: " + cause + ")"),
          cause);
      this.id = id;
      this.container = container;
      this.timeout = timeout;
    }

    /** The container's id. */
    public UUID id() {
      return id;
    }

    /**
     * The container as last read, or {@code null} when no poll succeeded (see {@link #getCause()}).
     */
    public Container container() {
      return container;
    }

    /** The timeout that passed. */
    public Duration timeout() {
      return timeout;
    }
  }
}
