package dev.airlock.platform.container;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.agent.AgentRepository;
import dev.airlock.platform.agent.JoinTokens;
import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.ContainerState;
import dev.airlock.platform.api.model.Image;
import dev.airlock.platform.api.model.ImageVariable;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.provision.ProvisionClient;
import dev.airlock.platform.provision.ProvisionClients;
import dev.airlock.platform.provision.ProvisionException;
import dev.airlock.platform.provision.ProvisionerRepository;
import dev.airlock.platform.provision.api.model.ContainerSpec;
import dev.airlock.platform.provision.api.model.IsolationProfile;
import dev.airlock.platform.provision.api.model.Resources;
import dev.airlock.platform.signalnode.SignalNodeClient;
import dev.airlock.platform.signalnode.SignalNodes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.NoTransactionException;
import org.springframework.transaction.reactive.TransactionSynchronization;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.core.publisher.Mono;

/**
 * Takes a container through its life on a provisioner: creation (trying the next provisioner when
 * one fails), readiness when its agent enrols, and removal. Every transition is audited as the
 * {@code system} actor unless a user caused it.
 */
@Component
public class ContainerLauncher {

  private static final Logger log = LoggerFactory.getLogger(ContainerLauncher.class);
  private static final Pattern PROVISIONER_LABEL = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,62}$");

  /** States from which a container may be stopped. */
  static final Set<ContainerState> STOPPABLE =
      EnumSet.of(
          ContainerState.REQUESTED,
          ContainerState.PROVISIONING,
          ContainerState.STARTING,
          ContainerState.READY);

  private final ContainerRepository containers;
  private final ContainerEvents events;
  private final ProvisionClients clients;
  private final ProvisionerRepository provisioners;
  private final JoinTokens joinTokens;
  private final AgentRepository agents;
  private final SignalNodes signalNodes;
  private final SignalNodeClient signalClient;
  private final AuditLog audit;
  private final AirlockProperties.Containers settings;

  public ContainerLauncher(
      ContainerRepository containers,
      ContainerEvents events,
      ProvisionClients clients,
      ProvisionerRepository provisioners,
      JoinTokens joinTokens,
      AgentRepository agents,
      SignalNodes signalNodes,
      SignalNodeClient signalClient,
      AuditLog audit,
      AirlockProperties properties) {
    this.containers = containers;
    this.events = events;
    this.clients = clients;
    this.provisioners = provisioners;
    this.joinTokens = joinTokens;
    this.agents = agents;
    this.signalNodes = signalNodes;
    this.signalClient = signalClient;
    this.audit = audit;
    this.settings = properties.containers();
  }

  /**
   * Creates container {@code id} of {@code image} on the first of {@code candidates} that accepts
   * it; fails the container with every provisioner's reason when none does. Never fails itself.
   */
  public Mono<Void> provision(
      UUID id,
      Image image,
      Map<String, String> labels,
      Map<String, String> requested,
      List<ProvisionClient> candidates) {
    UUID tokenId = UUID.randomUUID();
    Map<String, String> agentLabels = new LinkedHashMap<>(labels);
    agentLabels.put("airlock.container", id.toString());
    agentLabels.put("airlock.image", image.getName());
    return signalUrl()
        .flatMap(
            url ->
                joinTokens
                    .create(
                        tokenId,
                        AgentKind.CONTAINER,
                        agentLabels,
                        "container " + id,
                        1,
                        Instant.now().plus(settings.startTimeout()),
                        "system")
                    .map(secret -> spec(id, image, labels, requested, url, secret)))
        .flatMap(spec -> attempt(id, spec, tokenId, candidates, 0, new ArrayList<>()))
        .onErrorResume(
            e -> {
              log.warn("container {}: provisioning stopped: {}", id, e.toString());
              return fail(id, "provisioning stopped: " + e.getMessage());
            });
  }

  private Mono<Void> attempt(
      UUID id,
      ContainerSpec spec,
      UUID tokenId,
      List<ProvisionClient> candidates,
      int index,
      List<String> errors) {
    if (index >= candidates.size()) {
      return fail(id, "no provisioner could start it: " + String.join("; ", errors));
    }
    ProvisionClient client = candidates.get(index);
    String key = id.toString();
    return containers
        .provisioning(id, client.id(), tokenId)
        .flatMap(
            placed -> {
              if (!placed) {
                return Mono.<Void>empty(); // deleted while it was being placed
              }
              events.changed(id);
              return client
                  .create(key, spec)
                  .flatMap(
                      created ->
                          containers
                              .transition(
                                  id,
                                  EnumSet.of(ContainerState.PROVISIONING),
                                  ContainerState.STARTING,
                                  null)
                              .flatMap(
                                  moved ->
                                      system(
                                              "container.provisioned",
                                              id,
                                              AuditOutcome.SUCCESS,
                                              "provisioner "
                                                  + client.provisioner().name()
                                                  + ", "
                                                  + created.getMode().getValue()
                                                  + " mode, engine id "
                                                  + created.getEngineId())
                                          .then(Mono.fromRunnable(() -> events.changed(id))))
                              .then(provisioners.mode(client.id(), created.getMode().getValue()))
                              .then(removeIfStoppedMeanwhile(id)))
                  .onErrorResume(
                      ProvisionException.class,
                      e -> {
                        errors.add(e.getMessage());
                        // A timed-out create may still have happened: remove it before moving on.
                        Mono<Void> cleanup =
                            e.clientError()
                                ? Mono.empty()
                                : client.delete(key).onErrorResume(ignored -> Mono.empty());
                        return cleanup.then(
                            attempt(id, spec, tokenId, candidates, index + 1, errors));
                      });
            });
  }

  private Mono<Void> removeIfStoppedMeanwhile(UUID id) {
    return containers
        .find(id)
        .filter(row -> row.state() == ContainerState.STOPPING)
        .flatMap(this::remove);
  }

  /**
   * The agent enrolled with join token {@code tokenId}: if it is a container's, it is ready. Runs
   * inside the enrolment's transaction; waiters are woken once it has committed (a waiter woken
   * earlier would read the container as it was, and sleep until its next poll).
   */
  public Mono<Void> agentEnrolled(UUID tokenId, UUID agentId) {
    return containers
        .ready(tokenId, agentId)
        .flatMap(
            row ->
                system(
                        "container.ready",
                        row.id(),
                        AuditOutcome.SUCCESS,
                        "agent "
                            + agentId
                            + ", "
                            + Duration.between(row.createdAt(), Instant.now()).toMillis()
                            + " ms after the request")
                    .then(afterCommit(() -> events.changed(row.id()))));
  }

  /** Runs {@code action} when the current transaction commits, or now when there is none. */
  private static Mono<Void> afterCommit(Runnable action) {
    return TransactionSynchronizationManager.forCurrentTransaction()
        .filter(TransactionSynchronizationManager::isSynchronizationActive)
        .doOnNext(
            manager ->
                manager.registerSynchronization(
                    new TransactionSynchronization() {
                      @Override
                      public Mono<Void> afterCommit() {
                        return Mono.fromRunnable(action);
                      }
                    }))
        .switchIfEmpty(Mono.fromRunnable(action))
        .onErrorResume(NoTransactionException.class, e -> Mono.fromRunnable(action))
        .then();
  }

  /**
   * Stops the container: moves it to {@code stopping} and audits {@code action} by {@code actor};
   * {@link #remove} then takes it off its provisioner. Emits false when it was not live.
   */
  public Mono<Boolean> stop(
      ContainerRow row, String reason, String action, String actor, String actorId, String source) {
    return containers
        .transition(row.id(), STOPPABLE, ContainerState.STOPPING, reason)
        .flatMap(
            stopped -> {
              if (!stopped) {
                return Mono.just(false);
              }
              events.changed(row.id());
              return audit
                  .append(
                      new AuditRecord(
                          actor,
                          actorId,
                          action,
                          "container",
                          describe(row),
                          AuditOutcome.SUCCESS,
                          reason,
                          source))
                  .thenReturn(true);
            });
  }

  /**
   * Removes a stopping container from its provisioner, then marks it deleted and revokes its agent.
   * When the provisioner cannot be reached it stays {@code stopping} and the reaper tries again.
   */
  public Mono<Void> remove(UUID id) {
    return containers
        .find(id)
        .filter(row -> row.state() == ContainerState.STOPPING)
        .flatMap(this::remove);
  }

  private Mono<Void> remove(ContainerRow row) {
    Mono<Void> onProvisioner =
        row.provisionerId() == null
            ? Mono.empty()
            : provisioners
                .findById(row.provisionerId())
                .flatMap(p -> clients.client(p).delete(row.id().toString()));
    return onProvisioner
        .then(
            containers.transition(
                row.id(), EnumSet.of(ContainerState.STOPPING), ContainerState.DELETED, null))
        .flatMap(
            deleted ->
                deleted
                    ? system("container.deleted", row.id(), AuditOutcome.SUCCESS, row.reason())
                        .then(retireAgent(row))
                        .then(Mono.fromRunnable(() -> events.changed(row.id())))
                    : Mono.<Void>empty())
        .then()
        .onErrorResume(
            ProvisionException.class,
            e -> {
              log.warn("container {}: removal failed, will retry: {}", row.id(), e.getMessage());
              return Mono.empty();
            });
  }

  /** Fails a container that is not over yet, removing whatever was created. */
  public Mono<Void> fail(UUID id, String reason) {
    return containers
        .find(id)
        .flatMap(
            row ->
                containers
                    .transition(id, STOPPABLE, ContainerState.FAILED, reason)
                    .filter(Boolean::booleanValue)
                    .flatMap(
                        failed ->
                            system("container.failed", id, AuditOutcome.FAILURE, reason)
                                .then(Mono.fromRunnable(() -> events.changed(id)))
                                .then(cleanUp(row))
                                .then(retireAgent(row))))
        .then();
  }

  private Mono<Void> cleanUp(ContainerRow row) {
    Mono<Void> token =
        row.joinTokenId() == null ? Mono.empty() : joinTokens.revoke(row.joinTokenId()).then();
    Mono<Void> engine =
        row.provisionerId() == null
            ? Mono.empty()
            : provisioners
                .findById(row.provisionerId())
                .flatMap(p -> clients.client(p).delete(row.id().toString()))
                .onErrorResume(e -> Mono.empty());
    return token.then(engine);
  }

  private Mono<Void> retireAgent(ContainerRow row) {
    UUID agentId = row.agentId();
    if (agentId == null) {
      return Mono.empty();
    }
    return agents
        .find(agentId)
        .flatMap(
            agent -> {
              String node = agent.signalNodeId();
              Mono<Void> kick =
                  node == null
                      ? Mono.empty()
                      : signalClient.kickAgent(node, agentId).onErrorResume(e -> Mono.empty());
              return agents.revoke(agentId).then(kick);
            });
  }

  /** The signal URL container agents dial: the setting, or the freshest signal node's. */
  Mono<String> signalUrl() {
    if (!settings.signalUrl().isEmpty()) {
      return Mono.just(settings.signalUrl());
    }
    return signalNodes
        .all()
        .filter(SignalNodes.Node::online)
        .sort(Comparator.comparing(SignalNodes.Node::lastSeenAt).reversed())
        .next()
        .map(SignalNodes.Node::url)
        .switchIfEmpty(
            Mono.error(
                () ->
                    new IllegalStateException(
                        "no signal node is online for the container's agent to dial (start one,"
                            + " or set airlock.containers.signal-url)")));
  }

  private ContainerSpec spec(
      UUID id,
      Image image,
      Map<String, String> labels,
      Map<String, String> requested,
      String signalUrl,
      String joinToken) {
    Map<String, String> env = new LinkedHashMap<>();
    for (ImageVariable variable : image.getEnvironment()) {
      env.put(variable.getName(), variable.getValue());
    }
    env.putAll(requested);
    env.put("AIRLOCK_AGENT_SIGNAL_URL", signalUrl);
    env.put("AIRLOCK_AGENT_JOIN_TOKEN", joinToken);
    env.put("AIRLOCK_AGENT_HOSTNAME", "container-" + id);
    env.put("AIRLOCK_CONTAINER_ID", id.toString());
    if (!settings.agentCaFile().isEmpty()) {
      env.put("AIRLOCK_AGENT_CA_FILE", settings.agentCaFile());
    }
    Map<String, String> engineLabels = new LinkedHashMap<>();
    labels.forEach(
        (k, v) -> {
          if (PROVISIONER_LABEL.matcher(k).matches()) {
            engineLabels.put(k, v);
          }
        });
    engineLabels.put("image", image.getName());
    ContainerSpec spec =
        new ContainerSpec()
            .image(image.getReference())
            .profile(IsolationProfile.fromValue(image.getIsolation().getValue()));
    spec.setEnv(env);
    spec.setLabels(engineLabels);
    if (image.getResources() != null) {
      Resources resources = new Resources();
      resources.setMemoryBytes(image.getResources().getMemoryBytes());
      resources.setCpuMillis(image.getResources().getCpuMillis());
      resources.setPids(image.getResources().getPids());
      spec.setResources(resources);
    }
    return spec;
  }

  Mono<Void> system(String action, UUID id, AuditOutcome outcome, String reason) {
    return audit.append(
        new AuditRecord("system", null, action, "container", id.toString(), outcome, reason, null));
  }

  static String describe(ContainerRow row) {
    return row.id() + " (image " + row.imageName() + ")";
  }
}
