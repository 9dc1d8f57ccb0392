package dev.airlock.platform.container;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.ContainersApi;
import dev.airlock.platform.api.model.Container;
import dev.airlock.platform.api.model.ContainerCreate;
import dev.airlock.platform.api.model.ContainerPage;
import dev.airlock.platform.api.model.ContainerState;
import dev.airlock.platform.api.model.Image;
import dev.airlock.platform.api.model.ImageVariable;
import dev.airlock.platform.auth.Caller;
import dev.airlock.platform.image.ImageRepository;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.provision.ProvisionClients;
import dev.airlock.platform.rbac.Access;
import dev.airlock.platform.web.Cursors;
import dev.airlock.platform.web.SourceAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Serves the containers operations. A request is answered before the container exists: placement is
 * decided at once (so "no provisioner" is a fast 503), creation runs in the background.
 */
@RestController
public class ContainerHandler implements ContainersApi {

  private static final Logger log = LoggerFactory.getLogger(ContainerHandler.class);

  private final ContainerRepository containers;
  private final ContainerLauncher launcher;
  private final ContainerEvents events;
  private final ImageRepository images;
  private final ProvisionClients clients;
  private final Access access;
  private final AirlockProperties.Containers settings;
  private final TransactionalOperator tx;

  public ContainerHandler(
      ContainerRepository containers,
      ContainerLauncher launcher,
      ContainerEvents events,
      ImageRepository images,
      ProvisionClients clients,
      Access access,
      AirlockProperties properties,
      TransactionalOperator tx) {
    this.tx = tx;
    this.containers = containers;
    this.launcher = launcher;
    this.events = events;
    this.images = images;
    this.clients = clients;
    this.access = access;
    this.settings = properties.containers();
  }

  @Override
  public Mono<ResponseEntity<Container>> createContainer(
      Mono<ContainerCreate> body, String idempotencyKey, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return body.flatMap(
        create ->
            images
                .findByName(create.getImage())
                .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("image", create.getImage())))
                .flatMap(
                    image ->
                        access
                            .require(exchange, image.getLabels(), null, "image " + image.getName())
                            .then(
                                idempotencyKey == null
                                    ? Mono.<ContainerRow>empty()
                                    : containers.findByKey(
                                        caller.userId(),
                                        idempotencyKey,
                                        settings.idempotencyWindow()))
                            .map(ContainerRow::toApi)
                            .switchIfEmpty(
                                Mono.defer(
                                    () -> start(exchange, caller, create, image, idempotencyKey))))
                .map(container -> ResponseEntity.status(HttpStatus.ACCEPTED).body(container)));
  }

  private Mono<Container> start(
      ServerWebExchange exchange,
      Caller caller,
      ContainerCreate create,
      Image image,
      String idempotencyKey) {
    int ttl =
        create.getTtlSeconds() == null ? image.getDefaultTtlSeconds() : create.getTtlSeconds();
    if (ttl > image.getMaxTtlSeconds()) {
      throw ApiProblem.validation(
          "ttlSeconds",
          ttl
              + " is longer than image "
              + image.getName()
              + " allows (expected: 60.."
              + image.getMaxTtlSeconds()
              + ")");
    }
    Map<String, String> requested =
        create.getEnvironment() == null ? Map.of() : create.getEnvironment();
    Set<String> editable =
        image.getEnvironment().stream()
            .filter(v -> Boolean.TRUE.equals(v.getEditable()))
            .map(ImageVariable::getName)
            .collect(Collectors.toCollection(TreeSet::new));
    for (String name : requested.keySet()) {
      if (!editable.contains(name)) {
        throw ApiProblem.validation(
            "environment." + name,
            "not an editable variable of image "
                + image.getName()
                + " (expected one of: "
                + (editable.isEmpty() ? "none" : String.join(", ", editable))
                + ")");
      }
    }
    Map<String, String> labels = create.getLabels() == null ? Map.of() : create.getLabels();
    Instant expires = Instant.now().plusSeconds(ttl);
    String source = SourceAddress.of(exchange);
    // The owner's row is locked until the container's row is written: concurrent requests of one
    // user are counted one after the other, so a burst cannot exceed the quota. The creation
    // starts after the commit (it must see the row).
    Mono<Accepted> accepted =
        containers
            .lockOwner(caller.userId())
            .then(containers.countLive(caller.userId()))
            .flatMap(
                live -> {
                  if (live >= settings.maxPerUser()) {
                    return Mono.error(
                        new ApiProblem(
                            ProblemType.QUOTA_EXCEEDED,
                            "You hold "
                                + live
                                + " containers, the most you may hold at once is "
                                + settings.maxPerUser()
                                + "; delete one first"));
                  }
                  Mono<ContainerRow> warm =
                      requested.isEmpty()
                          ? containers.claimWarm(
                              image.getId(),
                              caller.userId(),
                              caller.username(),
                              idempotencyKey == null ? "warm:" + UUID.randomUUID() : idempotencyKey,
                              labels,
                              ttl,
                              image.getIdleTimeoutSeconds(),
                              expires)
                          : Mono.empty();
                  return warm.flatMap(
                          row ->
                              access
                                  .success(
                                      exchange,
                                      "container.create",
                                      "container",
                                      ContainerLauncher.describe(row) + ", from the warm pool")
                                  .thenReturn(new Accepted(row.toApi(), () -> {})))
                      .switchIfEmpty(
                          Mono.defer(
                              () ->
                                  cold(
                                      exchange,
                                      caller,
                                      image,
                                      labels,
                                      requested,
                                      ttl,
                                      expires,
                                      idempotencyKey,
                                      source)));
                });
    return tx.transactional(accepted)
        .doOnNext(done -> done.launch().run())
        .map(Accepted::container)
        .onErrorResume(
            DuplicateKeyException.class,
            // The same key raced another request: answer what that one created.
            e ->
                containers
                    .findByKey(caller.userId(), idempotencyKey, settings.idempotencyWindow())
                    .map(ContainerRow::toApi));
  }

  /** A container written in the request's transaction, and what starts it once committed. */
  private record Accepted(Container container, Runnable launch) {}

  private Mono<Accepted> cold(
      ServerWebExchange exchange,
      Caller caller,
      Image image,
      Map<String, String> labels,
      Map<String, String> requested,
      int ttl,
      Instant expires,
      String idempotencyKey,
      String source) {
    String misconfigured = clients.configurationProblem();
    if (misconfigured != null) {
      return Mono.error(
          unavailable("No container can be started: " + misconfigured, Duration.ofSeconds(60)));
    }
    return clients
        .placement()
        .flatMap(
            placement -> {
              if (placement.candidates().isEmpty()) {
                String why =
                    placement.registered() == 0
                        ? "no provisioner is registered (an administrator adds one with POST"
                            + " /api/v1/provisioners)"
                        : "all " + placement.registered() + " provisioner(s) are failing or full";
                return Mono.error(
                    unavailable("No container can be started now: " + why, placement.retryAfter()));
              }
              UUID id = UUID.randomUUID();
              return containers
                  .insert(
                      id,
                      image.getId(),
                      image.getName(),
                      caller.userId(),
                      caller.username(),
                      idempotencyKey,
                      labels,
                      ttl,
                      image.getIdleTimeoutSeconds(),
                      expires)
                  .then(
                      access.success(
                          exchange,
                          "container.create",
                          "container",
                          id + " (image " + image.getName() + ", ttl " + ttl + " s)"))
                  .then(containers.find(id))
                  .map(
                      row ->
                          new Accepted(
                              row.toApi(),
                              // Runs after the answer; its outcome is the container's state.
                              () ->
                                  launcher
                                      .provision(
                                          id, image, labels, requested, placement.candidates())
                                      .subscribeOn(Schedulers.parallel())
                                      .subscribe(
                                          null,
                                          e ->
                                              log.error(
                                                  "container {}: provisioning crashed", id, e))));
            });
  }

  private static ApiProblem unavailable(String detail, Duration retryAfter) {
    return new ApiProblem(
        ProblemType.PROVISIONING_UNAVAILABLE,
        detail,
        List.of(),
        Map.of("Retry-After", Long.toString(Math.max(1, retryAfter.toSeconds()))));
  }

  @Override
  public Mono<ResponseEntity<Container>> getContainer(
      UUID containerId, String wait, Integer timeoutSeconds, ServerWebExchange exchange) {
    if (wait != null && !wait.equals("ready")) {
      throw ApiProblem.validation("wait", wait + " (expected: ready)");
    }
    return find(exchange, containerId)
        .flatMap(
            row ->
                wait == null || ContainerEvents.settled(row)
                    ? Mono.just(row)
                    : events.awaitSettled(containerId, Duration.ofSeconds(timeoutSeconds)))
        .map(row -> ResponseEntity.ok(row.toApi()));
  }

  @Override
  public Mono<ResponseEntity<ContainerPage>> listContainers(
      ContainerState state,
      Boolean active,
      Integer limit,
      String cursor,
      ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    UUID onlyUser = Access.allows(exchange, Map.of(), null) ? null : caller.userId();
    long before = Cursors.decode(cursor, Long.MAX_VALUE);
    return containers
        .page(onlyUser, state, active, before, limit + 1)
        .collectList()
        .map(
            rows -> {
              Cursors.Page<ContainerRow> page = Cursors.page(rows, limit, ContainerRow::rowNo);
              ContainerPage result =
                  new ContainerPage(page.rows().stream().map(ContainerRow::toApi).toList());
              result.setNextCursor(page.nextCursor());
              return ResponseEntity.ok(result);
            });
  }

  @Override
  public Mono<ResponseEntity<Container>> deleteContainer(
      UUID containerId, ServerWebExchange exchange) {
    Caller caller = Access.caller(exchange);
    return find(exchange, containerId)
        .flatMap(
            row ->
                launcher
                    .stop(
                        row,
                        "deleted by " + caller.username(),
                        "container.delete",
                        caller.username(),
                        caller.userId().toString(),
                        SourceAddress.of(exchange))
                    .doOnNext(
                        stopped ->
                            // The engine's removal runs after the answer; GET shows when it is
                            // done.
                            launcher
                                .remove(containerId)
                                .subscribe(
                                    null,
                                    e ->
                                        log.error("container {}: removal crashed", containerId, e)))
                    .then(containers.find(containerId)))
        .map(row -> ResponseEntity.status(HttpStatus.ACCEPTED).body(row.toApi()));
  }

  private Mono<ContainerRow> find(ServerWebExchange exchange, UUID id) {
    return containers
        .find(id)
        .filter(row -> !row.warm())
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("container", id)))
        .flatMap(
            row ->
                access
                    .require(exchange, row.labels(), row.ownerId(), id.toString())
                    .thenReturn(row));
  }
}
