package dev.airlock.platform.container;

import dev.airlock.platform.api.model.ContainerState;
import java.time.Duration;
import java.util.UUID;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Wakes requests waiting for a container ({@code ?wait=ready}) when this replica changes its state;
 * a slow poll covers changes made by another replica.
 */
@Component
public class ContainerEvents {

  private static final Duration POLL = Duration.ofSeconds(1);

  private final Sinks.Many<UUID> changes = Sinks.many().multicast().directBestEffort();
  private final ContainerRepository containers;

  public ContainerEvents(ContainerRepository containers) {
    this.containers = containers;
  }

  /** Tells waiters that {@code id} changed. */
  public void changed(UUID id) {
    changes.emitNext(id, Sinks.EmitFailureHandler.busyLooping(Duration.ofMillis(50)));
  }

  /** The container once it is ready, failed or deleted, or as it is after {@code timeout}. */
  public Mono<ContainerRow> awaitSettled(UUID id, Duration timeout) {
    Flux<Object> wakeUps =
        Flux.merge(changes.asFlux().filter(id::equals), Flux.interval(POLL, POLL));
    return containers
        .find(id)
        .concatWith(wakeUps.concatMap(tick -> containers.find(id), 1))
        .filter(ContainerEvents::settled)
        .next()
        .timeout(timeout, containers.find(id));
  }

  static boolean settled(ContainerRow row) {
    return row.state() == ContainerState.READY
        || row.state() == ContainerState.FAILED
        || row.state() == ContainerState.DELETED;
  }
}
