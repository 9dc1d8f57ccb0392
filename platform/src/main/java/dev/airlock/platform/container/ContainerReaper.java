package dev.airlock.platform.container;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import dev.airlock.platform.provision.ProvisionClient;
import dev.airlock.platform.provision.ProvisionClients;
import dev.airlock.platform.provision.ProvisionException;
import dev.airlock.platform.provision.ProvisionerRepository;
import dev.airlock.platform.provision.ProvisionerRow;
import dev.airlock.platform.provision.api.model.Container;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The reaper (APICRON): deletes containers past their TTL or idle too long, fails those that never
 * became ready, finishes interrupted removals, and reconciles each provisioner with the database
 * both ways: a container on the engine without a live row is removed, a live row whose container is
 * gone (or exited) fails. Every action is audited as {@code system}.
 */
@Component
public class ContainerReaper implements Job {

  private static final Logger log = LoggerFactory.getLogger(ContainerReaper.class);

  /** The job's lock name. */
  public static final String JOB = "container-reaper";

  private final ContainerRepository containers;
  private final ContainerLauncher launcher;
  private final ProvisionerRepository provisioners;
  private final ProvisionClients clients;
  private final AirlockProperties.Containers settings;

  public ContainerReaper(
      ContainerRepository containers,
      ContainerLauncher launcher,
      ProvisionerRepository provisioners,
      ProvisionClients clients,
      AirlockProperties properties) {
    this.containers = containers;
    this.launcher = launcher;
    this.provisioners = provisioners;
    this.clients = clients;
    this.settings = properties.containers();
  }

  @Override
  public String name() {
    return JOB;
  }

  @Override
  public String description() {
    return "Stops containers past their TTL or idle timeout, fails those never ready, and removes"
        + " containers on provisioners that no row accounts for.";
  }

  @Override
  public String defaultCron() {
    return "*/15 * * * * *";
  }

  @Override
  public Mono<String> run(JobContext run) {
    return reap()
        .mapNotNull(
            summary -> {
              run.add("stopped", summary.stopped);
              run.add("failed", summary.failed);
              run.add("orphansRemoved", summary.orphansRemoved);
              run.add("goneFailed", summary.goneFailed);
              return summary.any() ? summary.toString() : null;
            });
  }

  /** One full pass; emits what it did. */
  public Mono<Summary> reap() {
    Instant now = Instant.now();
    Summary summary = new Summary();
    return stopAll(containers.expired(now), "ttl expired", "container.expire", summary)
        .then(stopAll(containers.idle(now), "idle timeout", "container.idle", summary))
        .then(
            containers
                .stuck(now, settings.startTimeout())
                .concatMap(
                    row ->
                        launcher
                            .fail(
                                row.id(),
                                "not ready within "
                                    + settings.startTimeout().toSeconds()
                                    + " s (state "
                                    + row.state().getValue()
                                    + ")")
                            .doOnSuccess(done -> summary.failed++))
                .then())
        .then(containers.stopping().concatMap(row -> launcher.remove(row.id())).then())
        .then(provisioners.all().concatMap(p -> reconcile(p, summary)).then())
        .then(
            Mono.fromSupplier(
                () -> {
                  if (summary.any()) {
                    log.info("reaper: {}", summary);
                  }
                  return summary;
                }));
  }

  private Mono<Void> stopAll(
      Flux<ContainerRow> rows, String reason, String action, Summary summary) {
    return rows.concatMap(
            row ->
                launcher
                    .stop(row, reason, action, "system", null, null)
                    .filter(Boolean::booleanValue)
                    .flatMap(
                        stopped -> {
                          summary.stopped++;
                          return launcher.remove(row.id());
                        }))
        .then();
  }

  private Mono<Void> reconcile(ProvisionerRow provisioner, Summary summary) {
    ProvisionClient client = clients.client(provisioner);
    if (!client.available()) {
      return Mono.empty();
    }
    return client
        .list()
        .flatMap(
            onEngine -> {
              Map<UUID, Container> byId =
                  onEngine.stream()
                      .filter(c -> isUuid(c.getKey()))
                      .collect(
                          Collectors.toMap(c -> UUID.fromString(c.getKey()), c -> c, (a, b) -> a));
              return containers
                  .liveAmong(byId.keySet())
                  .collect(Collectors.toSet())
                  .flatMap(
                      live -> {
                        Set<UUID> orphans = new HashSet<>(byId.keySet());
                        orphans.removeAll(live);
                        Mono<Void> removeOrphans =
                            Flux.fromIterable(orphans)
                                .concatMap(
                                    id ->
                                        client
                                            .delete(id.toString())
                                            .then(
                                                launcher.system(
                                                    "container.orphan_removed",
                                                    id,
                                                    AuditOutcome.SUCCESS,
                                                    "on provisioner "
                                                        + provisioner.name()
                                                        + " without a live container row"))
                                            .doOnSuccess(done -> summary.orphansRemoved++))
                                .then();
                        Mono<Void> failGone =
                            containers
                                .placedOn(provisioner.id())
                                // A just-created Swarm service may not have its task yet.
                                .filter(
                                    row -> row.createdAt().isBefore(Instant.now().minusSeconds(15)))
                                .filter(row -> gone(byId.get(row.id())))
                                .concatMap(
                                    row ->
                                        launcher
                                            .fail(
                                                row.id(),
                                                byId.get(row.id()) == null
                                                    ? "its container disappeared from provisioner "
                                                        + provisioner.name()
                                                    : "its container stopped on provisioner "
                                                        + provisioner.name()
                                                        + exitDetail(byId.get(row.id())))
                                            .doOnSuccess(done -> summary.goneFailed++))
                                .then();
                        return removeOrphans.then(failGone);
                      });
            })
        .onErrorResume(
            ProvisionException.class,
            e -> {
              log.warn("reaper: {}", e.getMessage());
              return Mono.empty();
            });
  }

  private static boolean gone(Container onEngine) {
    return onEngine == null
        || onEngine.getState() == dev.airlock.platform.provision.api.model.ContainerState.EXITED
        || onEngine.getState() == dev.airlock.platform.provision.api.model.ContainerState.MISSING;
  }

  private static String exitDetail(Container c) {
    return (c.getExitCode() == null ? "" : " (exit code " + c.getExitCode() + ")")
        + (c.getError() == null || c.getError().isEmpty() ? "" : ": " + c.getError());
  }

  private static boolean isUuid(String key) {
    try {
      UUID.fromString(key);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** What one pass did. */
  public static final class Summary {
    int stopped;
    int failed;
    int orphansRemoved;
    int goneFailed;

    boolean any() {
      return stopped + failed + orphansRemoved + goneFailed > 0;
    }

    @Override
    public String toString() {
      return stopped
          + " expired or idle stopped, "
          + failed
          + " never ready failed, "
          + orphansRemoved
          + " orphans removed, "
          + goneFailed
          + " rows without a container failed";
    }
  }
}
