package dev.airlock.provisioner.container;

import dev.airlock.provisioner.ProvisionerProperties;
import dev.airlock.provisioner.ProvisionerProperties.ModeSetting;
import dev.airlock.provisioner.ThisProvisioner;
import dev.airlock.provisioner.api.model.Mode;
import dev.airlock.provisioner.engine.DockerEngine;
import dev.airlock.provisioner.engine.EngineFacts;
import dev.airlock.provisioner.engine.EngineUnavailableException;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Chooses the backend once, from {@code airlock.provisioner.mode} and, in {@code auto}, from
 * whether the engine is a Swarm manager the first time it answers; the choice then holds until the
 * provisioner restarts (restart it after changing the engine's Swarm state). The engine's facts are
 * read again at most every {@value #FACTS_TTL_SECONDS} seconds.
 */
@Component
public class ContainerBackends {

  private static final Logger log = LoggerFactory.getLogger(ContainerBackends.class);
  private static final long FACTS_TTL_SECONDS = 30;

  private final DockerEngine engine;
  private final ModeSetting setting;
  private final PlainContainers plain;
  private final SwarmServices swarm;
  private final AtomicReference<Mode> mode = new AtomicReference<>();
  private final AtomicReference<Timed> facts = new AtomicReference<>();

  public ContainerBackends(
      DockerEngine engine, ProvisionerProperties properties, ThisProvisioner provisioner) {
    this.engine = engine;
    this.setting = properties.mode();
    this.plain = new PlainContainers(engine, provisioner);
    this.swarm = new SwarmServices(engine, provisioner);
  }

  /** The backend in use and the engine's facts; fails when the engine does not answer. */
  public Mono<Current> current() {
    return facts()
        .map(
            engineFacts -> {
              Mode chosen = mode.get();
              if (chosen == null) {
                chosen = choose(engineFacts);
                if (mode.compareAndSet(null, chosen)) {
                  log.info(
                      "Mode: {} (airlock.provisioner.mode={}, engine {} a Swarm manager)",
                      chosen.getValue(),
                      setting.name().toLowerCase(),
                      engineFacts.swarmManager() ? "is" : "is not");
                }
                chosen = mode.get();
              }
              if (chosen == Mode.SWARM && !engineFacts.swarmManager()) {
                throw new EngineUnavailableException(
                    "The Docker Engine at "
                        + engine.host()
                        + " is not a Swarm manager (expected one in swarm mode: docker swarm init,"
                        + " or set airlock.provisioner.mode=plain)",
                    null);
              }
              return new Current(chosen == Mode.SWARM ? swarm : plain, engineFacts);
            });
  }

  /** The facts, at most {@value #FACTS_TTL_SECONDS} seconds old. */
  private Mono<EngineFacts> facts() {
    Timed known = facts.get();
    if (known != null && known.at().plusSeconds(FACTS_TTL_SECONDS).isAfter(Instant.now())) {
      return Mono.just(known.facts());
    }
    return engine.facts().doOnNext(fresh -> facts.set(new Timed(fresh, Instant.now())));
  }

  private Mode choose(EngineFacts engineFacts) {
    return switch (setting) {
      case PLAIN -> Mode.PLAIN;
      case SWARM -> Mode.SWARM;
      case AUTO -> engineFacts.swarmManager() ? Mode.SWARM : Mode.PLAIN;
    };
  }

  /**
   * The backend in use and what the engine said about itself.
   *
   * @param backend plain containers or Swarm services
   * @param facts the engine's facts
   */
  public record Current(ContainerBackend backend, EngineFacts facts) {}

  private record Timed(EngineFacts facts, Instant at) {}
}
