package dev.airlock.provisioner.capacity;

import dev.airlock.provisioner.ProvisionerProperties;
import dev.airlock.provisioner.ThisProvisioner;
import dev.airlock.provisioner.api.CapacityApi;
import dev.airlock.provisioner.api.model.Capacity;
import dev.airlock.provisioner.api.model.ContainerState;
import dev.airlock.provisioner.api.model.IsolationProfile;
import dev.airlock.provisioner.container.ContainerBackends;
import dev.airlock.provisioner.engine.DockerEngine;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * {@code GET /provisioner/v1/capacity}: the mode, the engine, how many owned containers run against
 * {@code max-containers}, the host's memory and CPUs, the profiles, the engine's runtimes and the
 * images present (repository:tag; untagged images are left out).
 */
@RestController
public class CapacityEndpoint implements CapacityApi {

  private final DockerEngine engine;
  private final ContainerBackends backends;
  private final ProvisionerProperties properties;
  private final ThisProvisioner provisioner;

  public CapacityEndpoint(
      DockerEngine engine,
      ContainerBackends backends,
      ProvisionerProperties properties,
      ThisProvisioner provisioner) {
    this.engine = engine;
    this.backends = backends;
    this.properties = properties;
    this.provisioner = provisioner;
  }

  @Override
  public Mono<ResponseEntity<Capacity>> getCapacity(ServerWebExchange exchange) {
    return backends
        .current()
        .flatMap(
            current ->
                engine.call(
                    "capacity",
                    () -> {
                      int running =
                          (int)
                              current.backend().list().stream()
                                  .filter(c -> c.getState() == ContainerState.RUNNING)
                                  .count();
                      List<String> images =
                          engine.client().listImagesCmd().exec().stream()
                              .filter(image -> image.getRepoTags() != null)
                              .flatMap(image -> Arrays.stream(image.getRepoTags()))
                              .filter(Objects::nonNull)
                              .filter(tag -> !tag.equals("<none>:<none>"))
                              .distinct()
                              .sorted()
                              .toList();
                      return new Capacity()
                          .provisionerId(provisioner.id())
                          .mode(current.backend().mode())
                          .engineVersion(current.facts().version())
                          .running(running)
                          .maxContainers(properties.maxContainers())
                          .memoryBytes(current.facts().memoryBytes())
                          .cpus(current.facts().cpus())
                          .profiles(List.of(IsolationProfile.values()))
                          .runtimes(current.facts().runtimes())
                          .images(images);
                    }))
        .map(ResponseEntity::ok);
  }
}
