package dev.airlock.provisioner.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.RestartPolicy;
import dev.airlock.provisioner.ThisProvisioner;
import dev.airlock.provisioner.api.model.Container;
import dev.airlock.provisioner.api.model.ContainerState;
import dev.airlock.provisioner.api.model.IsolationProfile;
import dev.airlock.provisioner.api.model.Mode;
import dev.airlock.provisioner.engine.DockerEngine;
import dev.airlock.provisioner.engine.EngineFacts;
import dev.airlock.provisioner.isolation.Isolation;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Containers as plain Docker containers: created, then started; removed with force (SIGKILL).
 * Blocking; run through {@link DockerEngine#call}.
 */
public class PlainContainers implements ContainerBackend {

  private static final Logger log = LoggerFactory.getLogger(PlainContainers.class);
  private static final Pattern EXITED = Pattern.compile("Exited \\((-?\\d+)\\)");

  private final DockerEngine engine;
  private final String provisionerId;

  public PlainContainers(DockerEngine engine, ThisProvisioner provisioner) {
    this.engine = engine;
    this.provisionerId = provisioner.id();
  }

  @Override
  public Mode mode() {
    return Mode.PLAIN;
  }

  @Override
  public Optional<Found> find(String key) {
    try {
      InspectContainerResponse inspect =
          docker().inspectContainerCmd(OwnershipLabels.name(key)).exec();
      Map<String, String> labels = inspect.getConfig().getLabels();
      return Optional.of(new Found(labels == null ? Map.of() : labels, toContainer(key, inspect)));
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  @Override
  public List<Container> list() {
    return owned().stream()
        .map(
            summary -> {
              Map<String, String> labels = summary.getLabels();
              String key = labels.get(OwnershipLabels.CONTAINER);
              Matcher exited = EXITED.matcher(String.valueOf(summary.getStatus()));
              return base(key, labels)
                  .engineId(summary.getId())
                  .state(state(summary.getState()))
                  .exitCode(exited.find() ? Integer.valueOf(exited.group(1)) : null)
                  .createdAt(
                      summary.getCreated() == null
                          ? null
                          : OffsetDateTime.ofInstant(
                              Instant.ofEpochSecond(summary.getCreated()), ZoneOffset.UTC));
            })
        .toList();
  }

  @Override
  public int countOwned() {
    return owned().size();
  }

  private List<com.github.dockerjava.api.model.Container> owned() {
    return docker()
        .listContainersCmd()
        .withShowAll(true)
        .withLabelFilter(
            Map.of(OwnershipLabels.MANAGED, "true", OwnershipLabels.PROVISIONER, provisionerId))
        .exec()
        .stream()
        .filter(c -> c.getLabels() != null && c.getLabels().get(OwnershipLabels.CONTAINER) != null)
        .toList();
  }

  @Override
  public Container create(
      ContainerRequest request,
      String imageId,
      Isolation isolation,
      String network,
      EngineFacts facts) {
    String name = OwnershipLabels.name(request.key());
    if (!request.constraints().isEmpty()) {
      log.info("{}: placement constraints {} ignored in plain mode", name, request.constraints());
    }
    HostConfig host =
        HostConfig.newHostConfig()
            .withPrivileged(false)
            .withReadonlyRootfs(true)
            .withCapDrop(Capability.ALL)
            .withCapAdd(
                isolation.keptCapabilities().stream()
                    .map(Capability::valueOf)
                    .toArray(Capability[]::new))
            .withSecurityOpts(List.of("no-new-privileges:true"))
            // exec: the agent's JVM loads native libraries it unpacks into /tmp.
            .withTmpFs(
                Map.of("/tmp", "rw,exec,nosuid,nodev,mode=1777,size=" + isolation.tmpfsBytes()))
            .withMemory(isolation.memoryBytes())
            .withMemorySwap(isolation.memoryBytes())
            .withNanoCPUs(isolation.nanoCpus())
            .withPidsLimit((long) isolation.pids())
            .withNetworkMode(network)
            .withIpcMode("private")
            .withRestartPolicy(RestartPolicy.noRestart());
    if (isolation.runtime() != null) {
      host.withRuntime(isolation.runtime());
    }
    CreateContainerResponse created;
    try {
      var create =
          docker()
              .createContainerCmd(imageId)
              .withName(name)
              .withLabels(OwnershipLabels.of(provisionerId, request, isolation))
              .withEnv(request.envList())
              .withHostConfig(host);
      if (isolation.user() != null) {
        create.withUser(isolation.user());
      }
      created = create.exec();
    } catch (ConflictException e) {
      throw new NameTakenException(name);
    }
    try {
      docker().startContainerCmd(created.getId()).exec();
    } catch (RuntimeException e) {
      // A container that never ran is of no use to anyone: do not leave it behind.
      removeQuietly(created.getId());
      throw e;
    }
    InspectContainerResponse inspect = docker().inspectContainerCmd(created.getId()).exec();
    log.info(
        "{}: created {} ({} profile, image {}, network {}, runtime {})",
        name,
        created.getId(),
        isolation.profile().getValue(),
        request.image(),
        network,
        runtime(inspect));
    return toContainer(request.key(), inspect);
  }

  @Override
  public boolean remove(String key) {
    String name = OwnershipLabels.name(key);
    InspectContainerResponse inspect;
    try {
      inspect = docker().inspectContainerCmd(name).exec();
    } catch (NotFoundException e) {
      return false;
    }
    if (!OwnershipLabels.ownedBy(provisionerId, inspect.getConfig().getLabels())) {
      log.warn("{}: not removed, it is not this provisioner's", name);
      return false;
    }
    try {
      docker().removeContainerCmd(inspect.getId()).withForce(true).withRemoveVolumes(true).exec();
    } catch (NotFoundException e) {
      return false;
    }
    log.info("{}: removed {}", name, inspect.getId());
    return true;
  }

  private void removeQuietly(String id) {
    try {
      docker().removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
    } catch (RuntimeException e) {
      log.warn("Could not remove container {} that failed to start: {}", id, e.getMessage());
    }
  }

  private Container toContainer(String key, InspectContainerResponse inspect) {
    var state = inspect.getState();
    ContainerState mapped = state(state.getStatus());
    String error = state.getError();
    if (Boolean.TRUE.equals(state.getOOMKilled())) {
      error = "killed: out of memory (limit " + inspect.getHostConfig().getMemory() + " bytes)";
    }
    return base(key, inspect.getConfig().getLabels())
        .engineId(inspect.getId())
        .state(mapped)
        .runtime(runtime(inspect))
        .exitCode(mapped == ContainerState.EXITED ? state.getExitCode() : null)
        .error(error == null || error.isEmpty() ? null : error)
        .createdAt(time(inspect.getCreated()))
        .startedAt(time(state.getStartedAt()));
  }

  private Container base(String key, Map<String, String> labels) {
    String profile = labels == null ? null : labels.get(OwnershipLabels.PROFILE);
    return new Container()
        .key(key)
        .image(labels == null ? null : labels.get(OwnershipLabels.IMAGE))
        .profile(profile == null ? null : IsolationProfile.fromValue(profile))
        .mode(Mode.PLAIN)
        .labels(OwnershipLabels.callerLabels(labels));
  }

  private static String runtime(InspectContainerResponse inspect) {
    String runtime = inspect.getHostConfig() == null ? null : inspect.getHostConfig().getRuntime();
    return runtime == null || runtime.isEmpty() ? "runc" : runtime;
  }

  static ContainerState state(String status) {
    if (status == null) {
      return ContainerState.MISSING;
    }
    return switch (status) {
      case "created" -> ContainerState.CREATED;
      case "running", "paused", "restarting" -> ContainerState.RUNNING;
      default -> ContainerState.EXITED;
    };
  }

  static OffsetDateTime time(String value) {
    if (value == null || value.isEmpty() || value.startsWith("0001-01-01")) {
      return null;
    }
    return OffsetDateTime.parse(value);
  }

  private DockerClient docker() {
    return engine.client();
  }
}
