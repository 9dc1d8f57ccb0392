package dev.airlock.platform.provision;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.provision.api.CapacityApi;
import dev.airlock.platform.provision.api.ContainersApi;
import dev.airlock.platform.provision.api.model.Capacity;
import dev.airlock.platform.provision.api.model.Container;
import dev.airlock.platform.provision.api.model.ContainerSpec;
import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadFullException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.reactor.bulkhead.operator.BulkheadOperator;
import io.github.resilience4j.reactor.circuitbreaker.operator.CircuitBreakerOperator;
import io.github.resilience4j.reactor.retry.RetryOperator;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.springframework.core.codec.CodecException;
import org.springframework.core.codec.DecodingException;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Calls one provisioner. Every call has a timeout; calls that are safe to repeat (all of them:
 * creation is idempotent by key) are retried with exponential backoff and jitter when they failed
 * for a reason worth retrying (no connection, a timeout, a 5xx, an unreadable answer), never after
 * a 4xx; a circuit breaker stops calling a provisioner that keeps failing, and a bulkhead bounds
 * the calls in flight. A refusal by the breaker or the bulkhead fails at once.
 */
public final class ProvisionClient {

  private static final JsonMapper PROBLEMS = JsonMapper.builder().build();

  private final ProvisionerRow provisioner;
  private final ContainersApi containers;
  private final CapacityApi capacity;
  private final CircuitBreaker breaker;
  private final Bulkhead bulkhead;
  private final Retry retry;
  private final Duration callTimeout;
  private final Duration createTimeout;
  private volatile boolean called;

  ProvisionClient(
      ProvisionerRow provisioner,
      ContainersApi containers,
      CapacityApi capacity,
      AirlockProperties.Provisioning settings) {
    this.provisioner = provisioner;
    this.containers = containers;
    this.capacity = capacity;
    this.callTimeout = settings.callTimeout();
    this.createTimeout = settings.createTimeout();
    String name = "provisioner-" + provisioner.name();
    this.breaker =
        CircuitBreaker.of(
            name,
            CircuitBreakerConfig.custom()
                .failureRateThreshold(settings.failureRateThreshold())
                .minimumNumberOfCalls(settings.minimumCalls())
                .slidingWindowSize(Math.max(10, settings.minimumCalls()))
                .waitDurationInOpenState(settings.openDuration())
                .permittedNumberOfCallsInHalfOpenState(2)
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .recordException(ProvisionClient::isFailure)
                .build());
    breaker.getEventPublisher().onSuccess(e -> called = true).onError(e -> called = true);
    this.bulkhead =
        Bulkhead.of(
            name,
            BulkheadConfig.custom()
                .maxConcurrentCalls(settings.maxConcurrentCalls())
                .maxWaitDuration(Duration.ZERO)
                .build());
    this.retry =
        Retry.of(
            name,
            RetryConfig.custom()
                .maxAttempts(settings.retries() + 1)
                .intervalFunction(
                    IntervalFunction.ofExponentialRandomBackoff(settings.retryBackoff(), 2.0, 0.5))
                .retryOnException(ProvisionClient::isFailure)
                .build());
  }

  public UUID id() {
    return provisioner.id();
  }

  public ProvisionerRow provisioner() {
    return provisioner;
  }

  /** Creates (or finds, by key) and starts the container. */
  public Mono<Container> create(String key, ContainerSpec spec) {
    return guard(
        "create " + key,
        required(Mono.defer(() -> containers.createContainer(key, spec)))
            .map(ProvisionClient::checked),
        createTimeout);
  }

  /** The container as the engine sees it; empty when the provisioner has none with this key. */
  public Mono<Container> get(String key) {
    return guard(
        "inspect " + key,
        required(Mono.defer(() -> containers.getContainer(key)))
            .map(ProvisionClient::checked)
            .onErrorResume(WebClientResponseException.NotFound.class, e -> Mono.empty()),
        callTimeout);
  }

  /** Removes the container; completes also when it was gone already. */
  public Mono<Void> delete(String key) {
    return guard("delete " + key, Mono.defer(() -> containers.deleteContainer(key)), callTimeout);
  }

  /** Every container the provisioner owns. */
  public Mono<List<Container>> list() {
    return guard(
        "list containers",
        Mono.defer(() -> containers.listContainers().map(ProvisionClient::checked).collectList()),
        callTimeout);
  }

  public Mono<Capacity> capacity() {
    return guard(
        "read capacity",
        required(Mono.defer(capacity::getCapacity))
            .map(
                c -> {
                  if (c.getMode() == null || c.getProvisionerId() == null) {
                    throw new DecodingException("a capacity without its required fields");
                  }
                  return c;
                }),
        callTimeout);
  }

  /** A 2xx without a body is not an answer of this API. */
  private static <T> Mono<T> required(Mono<T> call) {
    return call.switchIfEmpty(Mono.error(() -> new DecodingException("an empty body")));
  }

  /**
   * The generated models do not check required properties, and unknown ones are ignored: a body
   * without them is not a container.
   */
  private static Container checked(Container c) {
    if (c.getKey() == null
        || c.getImage() == null
        || c.getProfile() == null
        || c.getState() == null
        || c.getMode() == null) {
      throw new DecodingException(
          "a container without its required fields (key, image, profile, state, mode)");
    }
    return c;
  }

  /** False while the circuit is open: placement skips this provisioner. */
  public boolean available() {
    CircuitBreaker.State state = breaker.getState();
    return state != CircuitBreaker.State.OPEN && state != CircuitBreaker.State.FORCED_OPEN;
  }

  /** up, down, or unknown (never called since the platform started). */
  public String health() {
    CircuitBreaker.Metrics metrics = breaker.getMetrics();
    return switch (breaker.getState()) {
      case OPEN, FORCED_OPEN -> "down";
      // Closing the circuit again resets its metrics: no calls then means "fine so far".
      case HALF_OPEN ->
          metrics.getNumberOfBufferedCalls() > 0
                  && metrics.getNumberOfFailedCalls() < metrics.getNumberOfBufferedCalls()
              ? "up"
              : "down";
      default ->
          metrics.getNumberOfBufferedCalls() == 0
              ? (called ? "up" : "unknown")
              : metrics.getNumberOfFailedCalls() == metrics.getNumberOfBufferedCalls()
                  ? "down"
                  : "up";
    };
  }

  private <T> Mono<T> guard(String what, Mono<T> call, Duration timeout) {
    return call.timeout(timeout)
        .transformDeferred(BulkheadOperator.of(bulkhead))
        .transformDeferred(CircuitBreakerOperator.of(breaker))
        .transformDeferred(RetryOperator.of(retry))
        .onErrorMap(e -> !(e instanceof ProvisionException), e -> describe(what, e, timeout));
  }

  /** Worth counting against the provisioner and retrying: not a refusal of the request itself. */
  static boolean isFailure(Throwable e) {
    if (e instanceof WebClientResponseException response) {
      // A 2xx here means its body could not be read (e.g. a proxy's HTML page): like a
      // malformed body, not a refusal.
      return response.getStatusCode().is5xxServerError()
          || response.getStatusCode().is2xxSuccessful();
    }
    return e instanceof WebClientRequestException
        || e instanceof TimeoutException
        || e instanceof CodecException
        || e instanceof java.io.IOException;
  }

  private ProvisionException describe(String what, Throwable e, Duration timeout) {
    String prefix = "provisioner " + provisioner.name() + " (" + what + "): ";
    if (e instanceof CallNotPermittedException) {
      return new ProvisionException(
          prefix + "circuit open after repeated failures; not called", false, e);
    }
    if (e instanceof BulkheadFullException) {
      return new ProvisionException(
          prefix
              + "too many calls in flight ("
              + bulkhead.getBulkheadConfig().getMaxConcurrentCalls()
              + ")",
          false,
          e);
    }
    if (e instanceof TimeoutException) {
      return new ProvisionException(
          prefix + "no answer within " + timeout.toMillis() + " ms", false, e);
    }
    if (e instanceof WebClientResponseException response
        && response.getStatusCode().is2xxSuccessful()) {
      return new ProvisionException(
          prefix + "answered with a body that is not its API's", false, e);
    }
    if (e instanceof WebClientResponseException response) {
      String detail = problemDetail(response);
      HttpStatus status = HttpStatus.resolve(response.getStatusCode().value());
      return new ProvisionException(
          prefix
              + "answered "
              + response.getStatusCode().value()
              + (status == null ? "" : " " + status.getReasonPhrase())
              + (detail.isEmpty() ? "" : ": " + detail),
          response.getStatusCode().is4xxClientError(),
          e);
    }
    if (e instanceof WebClientRequestException request) {
      Throwable root = request.getRootCause() == null ? request : request.getRootCause();
      return new ProvisionException(
          prefix
              + "unreachable ("
              + root.getClass().getSimpleName()
              + ": "
              + root.getMessage()
              + ")",
          false,
          e);
    }
    if (e instanceof CodecException) {
      return new ProvisionException(
          prefix + "answered with a body that is not its API's", false, e);
    }
    return new ProvisionException(
        prefix + e.getClass().getSimpleName() + ": " + e.getMessage(), false, e);
  }

  private static String problemDetail(WebClientResponseException response) {
    try {
      JsonNode detail = PROBLEMS.readTree(response.getResponseBodyAsString()).path("detail");
      String text = detail.isString() ? detail.asString() : "";
      return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    } catch (JacksonException notJson) {
      return "";
    }
  }
}
