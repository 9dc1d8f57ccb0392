package dev.airlock.signal.platform;

import dev.airlock.signal.ThisNode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Keeps this node registered with the platform: at start and every {@link #INTERVAL} (the
 * platform's heartbeat), retrying with backoff while the platform is down. Logs once per change of
 * state (registered, or failing for a given reason), not on every beat.
 */
@Component
public class NodeRegistration implements SmartLifecycle {

  /** How often the registration is renewed; the platform drops a node silent for 30 s. */
  public static final Duration INTERVAL = Duration.ofSeconds(10);

  private static final Logger log = LoggerFactory.getLogger(NodeRegistration.class);

  private final PlatformLink platform;
  private final ThisNode node;
  private final AtomicReference<String> state = new AtomicReference<>("starting");
  private volatile Disposable beat;

  public NodeRegistration(PlatformLink platform, ThisNode node) {
    this.platform = platform;
    this.node = node;
  }

  /** Whether the last attempt succeeded. */
  public boolean registered() {
    return "registered".equals(state.get());
  }

  /**
   * Whether the platform refused this node's own credentials on the last attempt (401 or 403), in
   * which case failures of agents' calls are the node's fault, not the agents'.
   */
  public boolean credentialsRefused() {
    String current = state.get();
    return current.startsWith("refused");
  }

  @Override
  public void start() {
    Mono<Void> once =
        Mono.defer(platform::register)
            .doOnSuccess(registered -> changeState("registered", null))
            .doOnError(this::failed)
            .then();
    beat =
        once.retryWhen(
                Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1))
                    .maxBackoff(INTERVAL)
                    .jitter(0.3))
            .repeatWhen(done -> done.delayElements(INTERVAL))
            .subscribe();
  }

  private void failed(Throwable error) {
    int status = PlatformProblems.status(error);
    String kind = status == 401 || status == 403 ? "refused" : "failing";
    changeState(kind + ": " + PlatformProblems.detail(error), error);
  }

  private void changeState(String next, Throwable error) {
    String previous = state.getAndSet(next);
    if (next.equals(previous)) {
      return;
    }
    if (error == null) {
      log.info(
          "Registered with the platform at {} as node {} ({})",
          platform.platformUrl(),
          node.id(),
          node.publicUrl());
    } else {
      log.warn(
          "Cannot register with the platform at {}: {}; retrying every {} s at most",
          platform.platformUrl(),
          next,
          INTERVAL.toSeconds());
    }
  }

  @Override
  public void stop() {
    Disposable current = beat;
    if (current != null) {
      current.dispose();
    }
  }

  @Override
  public boolean isRunning() {
    Disposable current = beat;
    return current != null && !current.isDisposed();
  }
}
