package dev.airlock.provisioner.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateServiceResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.InspectVolumeResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Driver;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.NetworkAttachmentConfig;
import com.github.dockerjava.api.model.ResourceRequirements;
import com.github.dockerjava.api.model.Service;
import com.github.dockerjava.api.model.ServiceModeConfig;
import com.github.dockerjava.api.model.ServicePlacement;
import com.github.dockerjava.api.model.ServiceReplicatedModeOptions;
import com.github.dockerjava.api.model.ServiceRestartCondition;
import com.github.dockerjava.api.model.ServiceRestartPolicy;
import com.github.dockerjava.api.model.ServiceSpec;
import com.github.dockerjava.api.model.Task;
import com.github.dockerjava.api.model.TaskSpec;
import com.github.dockerjava.api.model.TaskState;
import com.github.dockerjava.api.model.TaskStatus;
import com.github.dockerjava.api.model.VolumeOptions;
import dev.airlock.provisioner.ThisProvisioner;
import dev.airlock.provisioner.api.model.Container;
import dev.airlock.provisioner.api.model.ContainerState;
import dev.airlock.provisioner.api.model.IsolationProfile;
import dev.airlock.provisioner.api.model.Mode;
import dev.airlock.provisioner.container.SwarmSpecFields.HardenedContainerSpec;
import dev.airlock.provisioner.container.SwarmSpecFields.NoNewPrivileges;
import dev.airlock.provisioner.container.SwarmSpecFields.PidsLimitedResourceSpecs;
import dev.airlock.provisioner.engine.DockerEngine;
import dev.airlock.provisioner.engine.EngineFacts;
import dev.airlock.provisioner.isolation.Isolation;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Containers as Swarm services: one replica, restart condition none, the request's placement
 * constraints. The image is named by its id, so no node ever pulls it (a node that lacks it rejects
 * the task). A service's state is its task's. Blocking; run through {@link DockerEngine#call}.
 */
public class SwarmServices implements ContainerBackend {

  /** How long a container's /tmp volume may stay in use after its container was removed. */
  private static final Duration VOLUME_IN_USE_WAIT = Duration.ofSeconds(3);

  private static final Logger log = LoggerFactory.getLogger(SwarmServices.class);

  /** Time between SIGTERM and SIGKILL when a service is removed. */
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);

  private final DockerEngine engine;
  private final String provisionerId;

  public SwarmServices(DockerEngine engine, ThisProvisioner provisioner) {
    this.engine = engine;
    this.provisionerId = provisioner.id();
  }

  @Override
  public Mode mode() {
    return Mode.SWARM;
  }

  @Override
  public Optional<Found> find(String key) {
    Service service;
    try {
      service = docker().inspectServiceCmd(OwnershipLabels.name(key)).exec();
    } catch (NotFoundException e) {
      return Optional.empty();
    }
    Map<String, String> labels = labels(service);
    List<Task> tasks = docker().listTasksCmd().withServiceFilter(service.getId()).exec();
    return Optional.of(new Found(labels, toContainer(key, service, latest(tasks), true)));
  }

  @Override
  public List<Container> list() {
    List<Service> services = owned();
    if (services.isEmpty()) {
      return List.of();
    }
    Map<String, List<Task>> tasks =
        docker()
            .listTasksCmd()
            .withServiceFilter(services.stream().map(Service::getId).toArray(String[]::new))
            .exec()
            .stream()
            .collect(Collectors.groupingBy(Task::getServiceId));
    return services.stream()
        .map(
            service ->
                toContainer(
                    labels(service).get(OwnershipLabels.CONTAINER),
                    service,
                    latest(tasks.getOrDefault(service.getId(), List.of())),
                    false))
        .toList();
  }

  @Override
  public int countOwned() {
    return owned().size();
  }

  private List<Service> owned() {
    return docker()
        .listServicesCmd()
        .withLabelFilter(
            Map.of(OwnershipLabels.MANAGED, "true", OwnershipLabels.PROVISIONER, provisionerId))
        .exec()
        .stream()
        .filter(s -> labels(s).get(OwnershipLabels.CONTAINER) != null)
        .toList();
  }

  /**
   * Removes the {@code /tmp} volumes ({@link #scratch}) of {@code key}'s tasks on this node: Swarm
   * creates a volume with driver options as a named one, so it outlives the task's container. One
   * still in use (a container Swarm has not removed yet) is left for the next remove.
   */
  private void removeScratchVolumes(String key) {
    var volumes =
        docker()
            .listVolumesCmd()
            .withFilter(
                "label",
                List.of(
                    OwnershipLabels.CONTAINER + "=" + key,
                    OwnershipLabels.PROVISIONER + "=" + provisionerId))
            .exec()
            .getVolumes();
    for (var volume : volumes == null ? List.<InspectVolumeResponse>of() : volumes) {
      removeVolume(key, volume.getName());
    }
  }

  /**
   * Removes a volume, trying again for up to {@link #VOLUME_IN_USE_WAIT} while it is in use (Swarm
   * may still be removing the task's container); one still in use then is left, with a warning.
   */
  private void removeVolume(String key, String volume) {
    long deadline = System.nanoTime() + VOLUME_IN_USE_WAIT.toNanos();
    while (true) {
      try {
        docker().removeVolumeCmd(volume).exec();
        return;
      } catch (NotFoundException gone) {
        return;
      } catch (ConflictException inUse) {
        if (System.nanoTime() > deadline) {
          log.warn(
              "{}: /tmp volume {} left behind, still in use: {}", key, volume, inUse.getMessage());
          return;
        }
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
      }
    }
  }

  /**
   * The container's {@code /tmp}: a tmpfs like plain mode's, but as a task-scoped volume of the
   * {@code local} driver with tmpfs options. A service's own tmpfs mount is always {@code noexec}
   * before API 1.46 (and docker-java cannot ask otherwise), and the agent's JVM must load the
   * native WebRTC library it unpacks there. The volume carries the container's ownership labels:
   * {@link #remove} deletes it (on this node; see docs/provisioner.md for the others).
   */
  static Mount scratch(Isolation isolation, Map<String, String> labels) {
    return new Mount()
        .withType(MountType.VOLUME)
        .withTarget("/tmp")
        .withVolumeOptions(
            new VolumeOptions()
                .withNoCopy(true)
                .withLabels(labels)
                .withDriverConfig(
                    new Driver()
                        .withName("local")
                        .withOptions(
                            Map.of(
                                "type", "tmpfs",
                                "device", "tmpfs",
                                "o",
                                    "size="
                                        + isolation.tmpfsBytes()
                                        + ",mode=1777,exec,nosuid,nodev"))));
  }

  @Override
  public Container create(
      ContainerRequest request,
      String imageId,
      Isolation isolation,
      String network,
      EngineFacts facts) {
    String name = OwnershipLabels.name(request.key());
    Map<String, String> labels = OwnershipLabels.of(provisionerId, request, isolation);
    HardenedContainerSpec container =
        new HardenedContainerSpec()
            .withCapabilities(
                List.of("ALL"),
                isolation.keptCapabilities().stream().map(c -> "CAP_" + c).toList());
    container
        .withImage(imageId)
        .withLabels(labels)
        .withEnv(request.envList())
        .withReadOnly(true)
        .withMounts(List.of(scratch(isolation, labels)))
        .withStopGracePeriod(STOP_GRACE.toNanos());
    if (isolation.user() != null) {
      container.withUser(isolation.user());
    }
    if (facts.apiAtLeast(1, 44)) {
      container.withPrivileges(new NoNewPrivileges());
    }
    TaskSpec task =
        new TaskSpec()
            .withContainerSpec(container)
            .withResources(
                new ResourceRequirements()
                    .withLimits(
                        new PidsLimitedResourceSpecs()
                            .withPids(isolation.pids())
                            .withMemoryBytes(isolation.memoryBytes())
                            .withNanoCPUs(isolation.nanoCpus())))
            .withRestartPolicy(
                new ServiceRestartPolicy().withCondition(ServiceRestartCondition.NONE))
            .withPlacement(new ServicePlacement().withConstraints(request.constraints()))
            .withNetworks(List.of(new NetworkAttachmentConfig().withTarget(network)));
    ServiceSpec spec =
        new ServiceSpec()
            .withName(name)
            .withLabels(labels)
            .withMode(
                new ServiceModeConfig()
                    .withReplicated(new ServiceReplicatedModeOptions().withReplicas(1)))
            .withTaskTemplate(task);
    CreateServiceResponse created;
    try {
      created = docker().createServiceCmd(spec).exec();
    } catch (ConflictException e) {
      throw new NameTakenException(name);
    }
    log.info(
        "{}: created service {} ({} profile, image {}, network {}, constraints {})",
        name,
        created.getId(),
        isolation.profile().getValue(),
        request.image(),
        network,
        request.constraints());
    return find(request.key())
        .map(Found::container)
        .orElseThrow(() -> new IllegalStateException(name + " vanished right after its creation"));
  }

  @Override
  public boolean remove(String key) {
    String name = OwnershipLabels.name(key);
    Service service;
    try {
      service = docker().inspectServiceCmd(name).exec();
    } catch (NotFoundException e) {
      return false;
    }
    if (!OwnershipLabels.ownedBy(provisionerId, labels(service))) {
      log.warn("{}: not removed, it is not this provisioner's", name);
      return false;
    }
    try {
      docker().removeServiceCmd(service.getId()).exec();
    } catch (NotFoundException e) {
      return false;
    }
    // Swarm would stop the task's container after its grace period; as in plain mode, a deleted
    // container is killed at once, at least where it runs on this node.
    for (var container :
        docker()
            .listContainersCmd()
            .withShowAll(true)
            .withLabelFilter(Map.of("com.docker.swarm.service.id", service.getId()))
            .exec()) {
      try {
        docker()
            .removeContainerCmd(container.getId())
            .withForce(true)
            .withRemoveVolumes(true)
            .exec();
      } catch (NotFoundException | ConflictException e) {
        // Gone already, or being removed by Swarm.
      }
    }
    removeScratchVolumes(key);
    log.info("{}: removed service {}", name, service.getId());
    return true;
  }

  private Container toContainer(String key, Service service, Task task, boolean inspectLocal) {
    Map<String, String> labels = labels(service);
    String profile = labels.get(OwnershipLabels.PROFILE);
    Container container =
        new Container()
            .key(key)
            .engineId(service.getId())
            .image(labels.get(OwnershipLabels.IMAGE))
            .profile(profile == null ? null : IsolationProfile.fromValue(profile))
            .mode(Mode.SWARM)
            .labels(OwnershipLabels.callerLabels(labels))
            .createdAt(
                service.getCreatedAt() == null
                    ? null
                    : OffsetDateTime.ofInstant(service.getCreatedAt().toInstant(), ZoneOffset.UTC));
    if (task == null || task.getStatus() == null) {
      return container.state(ContainerState.MISSING);
    }
    TaskStatus status = task.getStatus();
    ContainerState state = state(status.getState());
    container.state(state);
    if (status.getErr() != null && !status.getErr().isEmpty()) {
      container.error(status.getErr());
    }
    if (state == ContainerState.EXITED && status.getContainerStatus() != null) {
      container.exitCode(status.getContainerStatus().getExitCode());
    }
    if (state == ContainerState.RUNNING) {
      container.startedAt(PlainContainers.time(status.getTimestamp()));
    }
    String containerId =
        status.getContainerStatus() == null ? null : status.getContainerStatus().getContainerID();
    if (inspectLocal && containerId != null && !containerId.isEmpty()) {
      // Only a task on this node can be inspected here; elsewhere runtime stays unknown.
      try {
        InspectContainerResponse inspect = docker().inspectContainerCmd(containerId).exec();
        String runtime = inspect.getHostConfig().getRuntime();
        container.runtime(runtime == null || runtime.isEmpty() ? "runc" : runtime);
        container.startedAt(PlainContainers.time(inspect.getState().getStartedAt()));
        if (Boolean.TRUE.equals(inspect.getState().getOOMKilled())) {
          container.error("killed: out of memory");
        }
      } catch (NotFoundException e) {
        // The task's container is on another node, or already gone.
      }
    }
    return container;
  }

  /** The service's newest task, or null when it has none. */
  private static Task latest(List<Task> tasks) {
    return tasks.stream()
        .max(Comparator.comparing(t -> t.getCreatedAt() == null ? "" : t.getCreatedAt()))
        .orElse(null);
  }

  static ContainerState state(TaskState state) {
    if (state == null) {
      return ContainerState.MISSING;
    }
    return switch (state) {
      case NEW, ALLOCATED, PENDING, ASSIGNED, ACCEPTED, PREPARING, READY, STARTING ->
          ContainerState.CREATED;
      case RUNNING -> ContainerState.RUNNING;
      default -> ContainerState.EXITED;
    };
  }

  private static Map<String, String> labels(Service service) {
    Map<String, String> labels = service.getSpec() == null ? null : service.getSpec().getLabels();
    return labels == null ? Map.of() : labels;
  }

  private DockerClient docker() {
    return engine.client();
  }
}
