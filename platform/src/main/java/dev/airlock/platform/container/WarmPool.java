package dev.airlock.platform.container;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.Image;
import dev.airlock.platform.image.ImageRepository;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import dev.airlock.platform.provision.ProvisionClients;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Keeps {@code warmPool} started containers of each image ready, so a request for one is answered
 * at once: missing ones are started, surplus ones (the pool shrank, the image is gone) removed. A
 * warm container has no owner and no TTL until it is handed out; it lives at most a day, then is
 * replaced.
 */
@Component
public class WarmPool implements Job {

  private static final Logger log = LoggerFactory.getLogger(WarmPool.class);

  /** The job's lock name. */
  public static final String JOB = "warm-pool";

  private static final int WARM_LIFETIME_SECONDS = 86_400;

  private final ImageRepository images;
  private final ContainerRepository containers;
  private final ContainerLauncher launcher;
  private final ProvisionClients clients;
  private final AirlockProperties.Containers settings;

  public WarmPool(
      ImageRepository images,
      ContainerRepository containers,
      ContainerLauncher launcher,
      ProvisionClients clients,
      AirlockProperties properties) {
    this.images = images;
    this.containers = containers;
    this.launcher = launcher;
    this.clients = clients;
    this.settings = properties.containers();
  }

  @Override
  public String name() {
    return JOB;
  }

  @Override
  public String description() {
    return "Keeps each image's warm pool of started, unassigned containers at its size.";
  }

  @Override
  public String defaultCron() {
    return "*/5 * * * * *";
  }

  @Override
  public Mono<String> run(JobContext run) {
    return refill()
        .mapNotNull(
            asked -> {
              run.add("requested", asked);
              return asked > 0 ? asked + " warm containers requested" : null;
            });
  }

  /** One pass: emits how many warm containers it asked for. */
  public Mono<Integer> refill() {
    if (clients.configurationProblem() != null) {
      return Mono.just(0);
    }
    Mono<Void> shrink =
        containers
            .surplusWarm()
            .concatMap(
                row ->
                    launcher
                        .stop(
                            row, "warm pool shrank", "container.warm_removed", "system", null, null)
                        .then(launcher.remove(row.id())))
            .then();
    return shrink.then(
        containers
            .warmCounts()
            .flatMap(
                counts ->
                    images
                        .withWarmPool()
                        .concatMap(image -> top(image, counts))
                        .reduce(0, Integer::sum)));
  }

  private Mono<Integer> top(Image image, Map<UUID, Long> counts) {
    int missing = (int) (image.getWarmPool() - counts.getOrDefault(image.getId(), 0L));
    if (missing <= 0) {
      return Mono.just(0);
    }
    return clients
        .placement()
        .flatMap(
            placement -> {
              if (placement.candidates().isEmpty()) {
                return Mono.just(0);
              }
              return Flux.range(0, missing)
                  .concatMap(
                      i -> {
                        UUID id = UUID.randomUUID();
                        return containers
                            .insert(
                                id,
                                image.getId(),
                                image.getName(),
                                null,
                                null,
                                null,
                                Map.of(),
                                WARM_LIFETIME_SECONDS,
                                image.getIdleTimeoutSeconds(),
                                Instant.now().plusSeconds(WARM_LIFETIME_SECONDS))
                            .then(
                                launcher.provision(
                                    id, image, Map.of(), Map.of(), placement.candidates()));
                      })
                  .then(Mono.just(missing))
                  .doOnNext(n -> log.info("warm pool: started {} of image {}", n, image.getName()));
            });
  }
}
