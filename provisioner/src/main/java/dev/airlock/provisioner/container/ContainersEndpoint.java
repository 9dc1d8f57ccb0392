package dev.airlock.provisioner.container;

import dev.airlock.provisioner.api.ContainersApi;
import dev.airlock.provisioner.api.model.Container;
import dev.airlock.provisioner.api.model.ContainerSpec;
import dev.airlock.provisioner.problem.ApiProblem;
import dev.airlock.provisioner.problem.ProblemType;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The {@code containers} operations of openapi/provisioner.yaml. */
@RestController
public class ContainersEndpoint implements ContainersApi {

  private final ContainerProvisioning provisioning;

  public ContainersEndpoint(ContainerProvisioning provisioning) {
    this.provisioning = provisioning;
  }

  @Override
  public Mono<ResponseEntity<Container>> createContainer(
      String key, Mono<ContainerSpec> containerSpec, ServerWebExchange exchange) {
    return Mono.fromRunnable(() -> ContainerSpecValidation.requireKey(key))
        .then(containerSpec)
        .switchIfEmpty(
            Mono.error(
                () ->
                    new ApiProblem(
                        ProblemType.MALFORMED_REQUEST,
                        "The body is empty (expected: a JSON object with image and profile)")))
        .map(spec -> ContainerSpecValidation.validate(key, spec))
        .flatMap(provisioning::create)
        .switchIfEmpty(
            Mono.error(
                () ->
                    new ApiProblem(
                        ProblemType.INTERNAL,
                        "key " + key + ": the container vanished while it was being created")))
        .map(
            outcome ->
                ResponseEntity.status(outcome.created() ? HttpStatus.CREATED : HttpStatus.OK)
                    .body(outcome.container()));
  }

  @Override
  public Mono<ResponseEntity<Container>> getContainer(String key, ServerWebExchange exchange) {
    return Mono.fromRunnable(() -> ContainerSpecValidation.requireKey(key))
        .then(provisioning.find(key))
        .map(ResponseEntity::ok);
  }

  @Override
  public Mono<ResponseEntity<Flux<Container>>> listContainers(ServerWebExchange exchange) {
    // Collected first, so that an engine failure is still answered as a problem document.
    return provisioning
        .list()
        .collectList()
        .map(containers -> ResponseEntity.ok(Flux.fromIterable(containers)));
  }

  @Override
  public Mono<ResponseEntity<Void>> deleteContainer(String key, ServerWebExchange exchange) {
    return Mono.fromRunnable(() -> ContainerSpecValidation.requireKey(key))
        .then(provisioning.remove(key))
        .then(Mono.just(ResponseEntity.noContent().build()));
  }
}
