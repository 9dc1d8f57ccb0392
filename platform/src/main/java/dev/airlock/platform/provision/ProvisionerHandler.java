package dev.airlock.platform.provision;

import dev.airlock.platform.api.ProvisionersApi;
import dev.airlock.platform.api.model.Provisioner;
import dev.airlock.platform.api.model.ProvisionerHealth;
import dev.airlock.platform.api.model.ProvisionerSpec;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.rbac.Access;
import java.util.Map;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Serves the provisioners operations (admins register the Docker hosts containers go to). */
@RestController
public class ProvisionerHandler implements ProvisionersApi {

  private final ProvisionerRepository provisioners;
  private final ProvisionClients clients;
  private final Access access;
  private final TransactionalOperator tx;

  public ProvisionerHandler(
      ProvisionerRepository provisioners,
      ProvisionClients clients,
      Access access,
      TransactionalOperator tx) {
    this.provisioners = provisioners;
    this.clients = clients;
    this.access = access;
    this.tx = tx;
  }

  @Override
  public Mono<ResponseEntity<Flux<Provisioner>>> listProvisioners(ServerWebExchange exchange) {
    return provisioners
        .running()
        .map(
            running ->
                ResponseEntity.ok(
                    provisioners
                        .all()
                        .filter(p -> Access.allows(exchange, p.labels(), null))
                        .map(p -> toApi(p, running))));
  }

  @Override
  public Mono<ResponseEntity<Provisioner>> createProvisioner(
      Mono<ProvisionerSpec> body, ServerWebExchange exchange) {
    return body.flatMap(
        spec -> {
          UUID id = UUID.randomUUID();
          int max = spec.getMaxContainers() == null ? 50 : spec.getMaxContainers();
          String url = spec.getUrl().replaceAll("/+$", "");
          return access
              .require(exchange, spec.getLabels(), null, spec.getName())
              .then(
                  tx.transactional(
                      provisioners
                          .insert(id, spec.getName(), url, spec.getLabels(), max)
                          .then(
                              access.success(
                                  exchange,
                                  "provisioner.create",
                                  "provisioner",
                                  spec.getName() + " (" + url + ")"))))
              .onErrorMap(
                  DuplicateKeyException.class,
                  e ->
                      ApiProblem.conflict(
                          "A provisioner named " + spec.getName() + " exists already"))
              .then(find(spec.getName()))
              .map(p -> ResponseEntity.status(HttpStatus.CREATED).body(toApi(p, Map.of())));
        });
  }

  @Override
  public Mono<ResponseEntity<Provisioner>> getProvisioner(
      String provisionerName, ServerWebExchange exchange) {
    return find(provisionerName)
        .flatMap(
            p ->
                access
                    .require(exchange, p.labels(), null, provisionerName)
                    .then(provisioners.running())
                    .map(running -> ResponseEntity.ok(toApi(p, running))));
  }

  @Override
  public Mono<ResponseEntity<Void>> deleteProvisioner(
      String provisionerName, ServerWebExchange exchange) {
    return find(provisionerName)
        .flatMap(
            p ->
                access
                    .require(exchange, p.labels(), null, provisionerName)
                    .then(provisioners.running())
                    .flatMap(
                        running -> {
                          int live = running.getOrDefault(p.id(), 0);
                          if (live > 0) {
                            return Mono.error(
                                ApiProblem.conflict(
                                    "Provisioner "
                                        + provisionerName
                                        + " still runs "
                                        + live
                                        + " container(s); delete them first"));
                          }
                          return tx.transactional(
                                  provisioners
                                      .delete(p.id())
                                      .then(
                                          access.success(
                                              exchange,
                                              "provisioner.delete",
                                              "provisioner",
                                              provisionerName)))
                              .doOnSuccess(done -> clients.remove(p.id()));
                        }))
        .thenReturn(ResponseEntity.noContent().build());
  }

  private Mono<ProvisionerRow> find(String name) {
    return provisioners
        .findByName(name)
        .switchIfEmpty(Mono.error(() -> ApiProblem.notFound("provisioner", name)));
  }

  private Provisioner toApi(ProvisionerRow row, Map<UUID, Integer> running) {
    ProvisionClient client = clients.client(row);
    Provisioner p =
        new Provisioner(
            row.id(),
            row.name(),
            row.url(),
            row.labels(),
            row.maxContainers(),
            ProvisionerHealth.fromValue(client.health()),
            running.getOrDefault(row.id(), 0),
            Rows.offset(Rows.column(row.createdAt())));
    p.setMode(row.mode());
    return p;
  }
}
