package dev.airlock.provisioner.container;

import com.github.dockerjava.api.exception.NotFoundException;
import dev.airlock.provisioner.ProvisionerProperties;
import dev.airlock.provisioner.ThisProvisioner;
import dev.airlock.provisioner.api.model.Container;
import dev.airlock.provisioner.api.model.ContainerState;
import dev.airlock.provisioner.api.model.Mode;
import dev.airlock.provisioner.api.model.ProblemErrorsInner;
import dev.airlock.provisioner.container.ContainerBackend.Found;
import dev.airlock.provisioner.container.ContainerBackend.NameTakenException;
import dev.airlock.provisioner.container.ContainerBackends.Current;
import dev.airlock.provisioner.engine.DockerEngine;
import dev.airlock.provisioner.engine.EngineFacts;
import dev.airlock.provisioner.isolation.Isolation;
import dev.airlock.provisioner.isolation.IsolationProfiles;
import dev.airlock.provisioner.network.StrictNetwork;
import dev.airlock.provisioner.problem.ApiProblem;
import dev.airlock.provisioner.problem.ProblemType;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Creates, finds, lists and removes this provisioner's containers. A create is idempotent by key:
 * the name {@code airlock-<key>} is unique on the engine, so a retried or concurrent create finds
 * the container the first one made. Creates are serialized in this process, so the count against
 * {@code max-containers} and the create that follows it cannot interleave.
 */
@Service
public class ContainerProvisioning {

  private static final Logger log = LoggerFactory.getLogger(ContainerProvisioning.class);
  private static final Duration START_POLL = Duration.ofMillis(200);

  private final DockerEngine engine;
  private final ContainerBackends backends;
  private final StrictNetwork strictNetwork;
  private final ProvisionerProperties properties;
  private final String provisionerId;
  private final Object createLock = new Object();
  private final AtomicBoolean warnedNoNewPrivileges = new AtomicBoolean();

  public ContainerProvisioning(
      DockerEngine engine,
      ContainerBackends backends,
      StrictNetwork strictNetwork,
      ProvisionerProperties properties,
      ThisProvisioner provisioner) {
    this.engine = engine;
    this.backends = backends;
    this.strictNetwork = strictNetwork;
    this.properties = properties;
    this.provisionerId = provisioner.id();
  }

  /**
   * The outcome of a create.
   *
   * @param created true when this call created it (201), false when it existed (200)
   * @param container the container
   */
  public record Outcome(boolean created, Container container) {}

  /** Creates and starts the container for a validated request, or returns the one that exists. */
  public Mono<Outcome> create(ContainerRequest request) {
    return backends
        .current()
        .flatMap(
            current -> {
              ContainerBackend backend = current.backend();
              if (backend.mode() == Mode.SWARM) {
                ContainerSpecValidation.requireSwarmKey(request.key());
                requireNoNewPrivileges(current.facts());
              }
              Isolation isolation =
                  IsolationProfiles.resolve(
                      request.profile(),
                      request.resources(),
                      current.facts().runtimes(),
                      current.facts().cpus());
              String network =
                  isolation.strictNetwork() ? strictNetwork.name() : properties.network();
              return engine
                  .call(
                      "create " + OwnershipLabels.name(request.key()),
                      () -> createLocked(current, request, isolation, network))
                  .flatMap(
                      outcome ->
                          outcome.created() && backend.mode() == Mode.SWARM
                              ? awaitStart(backend, request.key(), isolation)
                                  .map(container -> new Outcome(true, container))
                              : Mono.just(outcome));
            });
  }

  private Outcome createLocked(
      Current current, ContainerRequest request, Isolation isolation, String network) {
    ContainerBackend backend = current.backend();
    synchronized (createLock) {
      var existing = backend.find(request.key());
      if (existing.isPresent()) {
        return existing(request, existing.get());
      }
      String imageId = imageId(request.image());
      int owned = backend.countOwned();
      if (owned >= properties.maxContainers()) {
        throw new ApiProblem(
            ProblemType.CAPACITY_EXHAUSTED,
            "This provisioner owns "
                + owned
                + " containers, its maximum (airlock.provisioner.max-containers="
                + properties.maxContainers()
                + "); delete one or use another provisioner");
      }
      if (isolation.strictNetwork()) {
        strictNetwork.prepare(backend.mode());
      }
      Container container;
      try {
        container = backend.create(request, imageId, isolation, network, current.facts());
      } catch (NameTakenException e) {
        return backend
            .find(request.key())
            .map(found -> existing(request, found))
            .orElseThrow(
                () ->
                    new ApiProblem(
                        ProblemType.CONFLICT,
                        "key "
                            + request.key()
                            + ": created and removed concurrently by another request; retry"));
      }
      if (isolation.strictNetwork() && backend.mode() == Mode.PLAIN) {
        // Isolates the new container's bridge port too.
        strictNetwork.guard(true);
      }
      return new Outcome(true, container);
    }
  }

  private Outcome existing(ContainerRequest request, Found found) {
    String name = OwnershipLabels.name(request.key());
    if (!OwnershipLabels.ownedBy(provisionerId, found.labels())) {
      String owner = found.labels().get(OwnershipLabels.PROVISIONER);
      throw new ApiProblem(
          ProblemType.CONFLICT,
          "key "
              + request.key()
              + ": "
              + name
              + (owner == null
                  ? " exists and is not an Airlock container"
                  : " belongs to provisioner " + owner)
              + " (expected: a key no other container uses)");
    }
    String image = found.container().getImage();
    if (!request.image().equals(image)) {
      throw new ApiProblem(
          ProblemType.CONFLICT,
          "key "
              + request.key()
              + ": its container runs image "
              + image
              + ", not "
              + request.image()
              + " (expected: the same image to get it back, or a new key)");
    }
    return new Outcome(false, found.container());
  }

  /** The id of a local image; never pulls. */
  private String imageId(String image) {
    try {
      return engine.client().inspectImageCmd(image).exec().getId();
    } catch (NotFoundException e) {
      throw new ApiProblem(
          ProblemType.IMAGE_NOT_PRESENT,
          "image: "
              + image
              + " is not on this engine (expected: an image present here; the provisioner never"
              + " pulls, so load or build it on this host first)",
          List.of(new ProblemErrorsInner("image", "not present on this engine")),
          null);
    }
  }

  /**
   * Waits until a new service's task exists and leaves the created states, or the start timeout
   * passes; then answers with what the engine says, and guards the strict bridge if the task landed
   * here.
   */
  private Mono<Container> awaitStart(ContainerBackend backend, String key, Isolation isolation) {
    long deadline = System.nanoTime() + properties.startTimeout().toNanos();
    return engine
        .call(
            "inspect " + OwnershipLabels.name(key),
            () -> Optional.ofNullable(backend.find(key).map(Found::container).orElse(null)))
        .filter(
            found ->
                found.isEmpty()
                    || started(found.get().getState())
                    || System.nanoTime() - deadline > 0)
        .repeatWhenEmpty(repeat -> repeat.delayElements(START_POLL))
        .flatMap(Mono::justOrEmpty)
        .flatMap(
            container ->
                isolation.strictNetwork()
                    ? engine
                        .call("guard " + strictNetwork.name(), () -> strictNetwork.guard(false))
                        .doOnNext(
                            here -> {
                              if (!here && properties.strictEgressGuard()) {
                                log.warn(
                                    "{}: its task is not on this node, so only that engine's"
                                        + " iptables limit its egress",
                                    OwnershipLabels.name(key));
                              }
                            })
                        .thenReturn(container)
                    : Mono.just(container));
  }

  /** Whether a new service's task has left the states before its start; {@code missing} too. */
  private static boolean started(ContainerState state) {
    // Right after the service is created the orchestrator may not have made its task yet.
    return state != ContainerState.CREATED && state != ContainerState.MISSING;
  }

  private void requireNoNewPrivileges(EngineFacts facts) {
    if (facts.servicesGetNoNewPrivileges()) {
      return;
    }
    String why =
        "this Swarm cannot set no-new-privileges on services: Docker "
            + facts.version()
            + " speaks API "
            + facts.apiVersion()
            + " (per-service no-new-privileges needs 1.44) and dockerd runs without"
            + " --no-new-privileges";
    if (!properties.swarmWithoutNoNewPrivileges()) {
      throw new ApiProblem(
          ProblemType.INTERNAL,
          why
              + ". Start dockerd with --no-new-privileges (daemon.json \"no-new-privileges\": true),"
              + " run in plain mode, or accept the gap with"
              + " airlock.provisioner.swarm-without-no-new-privileges=true");
    }
    if (warnedNoNewPrivileges.compareAndSet(false, true)) {
      log.warn("{}; accepted by airlock.provisioner.swarm-without-no-new-privileges", why);
    }
  }

  /** The container this provisioner owns for a key, or a {@code not-found} problem. */
  public Mono<Container> find(String key) {
    return backends
        .current()
        .flatMap(
            current ->
                engine.call(
                    "inspect " + OwnershipLabels.name(key),
                    () -> current.backend().find(key).orElse(null)))
        .filter(found -> OwnershipLabels.ownedBy(provisionerId, found.labels()))
        .map(Found::container)
        .switchIfEmpty(
            Mono.error(
                () ->
                    new ApiProblem(
                        ProblemType.NOT_FOUND,
                        "No container with key "
                            + key
                            + " belongs to provisioner "
                            + provisionerId)));
  }

  /** Every container this provisioner owns. */
  public Flux<Container> list() {
    return backends
        .current()
        .flatMap(current -> engine.call("list containers", () -> current.backend().list()))
        .flatMapMany(Flux::fromIterable);
  }

  /** Removes the container this provisioner owns for a key; completes also when there was none. */
  public Mono<Void> remove(String key) {
    return backends
        .current()
        .flatMap(
            current ->
                engine.call(
                    "remove " + OwnershipLabels.name(key), () -> current.backend().remove(key)))
        .then();
  }
}
