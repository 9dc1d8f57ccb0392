package dev.airlock.platform.local;

import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.api.model.ClipboardPolicy;
import dev.airlock.platform.api.model.ImageSpec;
import dev.airlock.platform.api.model.ImageVariable;
import dev.airlock.platform.api.model.IsolationLevel;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.image.ImageRepository;
import dev.airlock.platform.provision.ProvisionerRepository;
import dev.airlock.platform.user.InitialAdmin;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * For the provisioner that {@code ./airlock start} runs next to the platform when a Docker Engine
 * is present: at start, registers that provisioner ({@code airlock.local.provisioner-url}, name
 * {@code local}) and the browser image ({@code chromium}: {@code airlock/rbi-chromium:dev},
 * standard isolation, clipboard both ways, an editable {@code START_URL}) unless one of that name
 * exists, each with an audit event by {@code system}. What exists is never changed, so an
 * administrator's edits survive restarts; a deleted one comes back at the next start. Does nothing
 * unless {@code airlock.local.provisioner-url} is set.
 */
@Component
public class LocalContainers {

  /** What one start found or did. */
  public record Outcome(
      String provisionerName,
      String provisionerUrl,
      boolean provisionerCreated,
      String imageName,
      String imageReference,
      boolean imageCreated) {}

  private static final Logger log = LoggerFactory.getLogger(LocalContainers.class);

  private final ProvisionerRepository provisioners;
  private final ImageRepository images;
  private final AuditLog audit;
  private final TransactionalOperator tx;
  private final LocalContainersProperties properties;
  private final InitialAdmin initialAdmin;
  private final PrintStream console = System.out;
  private final Sinks.One<Outcome> startup = Sinks.one();

  public LocalContainers(
      ProvisionerRepository provisioners,
      ImageRepository images,
      AuditLog audit,
      TransactionalOperator tx,
      LocalContainersProperties properties,
      InitialAdmin initialAdmin) {
    this.provisioners = provisioners;
    this.images = images;
    this.audit = audit;
    this.tx = tx;
    this.properties = properties;
    this.initialAdmin = initialAdmin;
  }

  @EventListener(ApplicationReadyEvent.class)
  public void onReady() {
    if (!properties.enabled()) {
      startup.tryEmitEmpty();
      return;
    }
    ensure()
        .subscribe(
            outcome -> {
              startup.tryEmitValue(outcome);
              announce(outcome);
            },
            e -> {
              log.error(
                  "Cannot register the local provisioner {} and image {}",
                  properties.provisionerName(),
                  properties.imageName(),
                  e);
              startup.tryEmitError(e);
            });
  }

  /**
   * The outcome of the registration this start made; empty when {@code airlock.local.*} asks for
   * none. Completes once, after the application is ready.
   */
  public Mono<Outcome> startup() {
    return startup.asMono();
  }

  /** Registers the provisioner and the image unless they exist; safe to run concurrently. */
  public Mono<Outcome> ensure() {
    return ensureProvisioner()
        .zipWhen(provisioner -> ensureImage())
        .map(
            both ->
                new Outcome(
                    properties.provisionerName(),
                    both.getT1().value(),
                    both.getT1().created(),
                    properties.imageName(),
                    both.getT2().value(),
                    both.getT2().created()));
  }

  /** A provisioner's URL or an image's reference as registered, and whether this start did. */
  private record Registered(String value, boolean created) {}

  private Mono<Registered> ensureProvisioner() {
    String name = properties.provisionerName();
    String url = properties.provisionerUrl();
    Mono<Registered> existing =
        provisioners.findByName(name).map(row -> new Registered(row.url(), false));
    Mono<Registered> create =
        tx.transactional(
                provisioners
                    .insert(UUID.randomUUID(), name, url, Map.of(), properties.maxContainers())
                    .then(
                        audit.append(
                            system(
                                "provisioner.create",
                                "provisioner",
                                name + " (" + url + ", registered by ./airlock start)"))))
            .thenReturn(new Registered(url, true))
            // Another replica registered it at the same moment: theirs stands.
            .onErrorResume(DuplicateKeyException.class, e -> existing);
    return existing.switchIfEmpty(Mono.defer(() -> create));
  }

  private Mono<Registered> ensureImage() {
    ImageSpec spec = imageSpec();
    Mono<Registered> existing =
        images.findByName(spec.getName()).map(image -> new Registered(image.getReference(), false));
    Mono<Registered> create =
        tx.transactional(
                images
                    .insert(UUID.randomUUID(), spec)
                    .then(
                        audit.append(
                            system(
                                "image.create",
                                "image",
                                spec.getName()
                                    + " ("
                                    + spec.getReference()
                                    + ", registered by ./airlock start)"))))
            .thenReturn(new Registered(spec.getReference(), true))
            .onErrorResume(DuplicateKeyException.class, e -> existing);
    return existing.switchIfEmpty(Mono.defer(() -> create));
  }

  /** The browser image as this start registers it. */
  ImageSpec imageSpec() {
    return new ImageSpec(properties.imageName(), properties.imageReference())
        .description("Chromium in kiosk mode (deploy/images/rbi), registered by ./airlock start")
        .isolation(IsolationLevel.STANDARD)
        .clipboard(ClipboardPolicy.BOTH)
        .maxTtlSeconds(14_400)
        .defaultTtlSeconds(3_600)
        .idleTimeoutSeconds(900)
        .warmPool(0)
        .environment(List.of(new ImageVariable("START_URL", properties.startUrl()).editable(true)))
        .labels(Map.of());
  }

  private static AuditRecord system(String action, String kind, String target) {
    return new AuditRecord("system", null, action, kind, target, AuditOutcome.SUCCESS, null, null);
  }

  /**
   * Prints where the browser image is, after the platform's own banner (which says where to log
   * in); on a worker thread, as the console may block.
   */
  private void announce(Outcome outcome) {
    Mono.fromSupplier(initialAdmin::ready)
        .filter(ready -> ready)
        .repeatWhenEmpty(50, attempts -> attempts.delayElements(Duration.ofMillis(200)))
        .defaultIfEmpty(false)
        .publishOn(Schedulers.boundedElastic())
        .subscribe(ready -> console.println(text(outcome)), e -> console.println(text(outcome)));
  }

  String text(Outcome outcome) {
    StringBuilder text = new StringBuilder("\n  Browser isolation: ");
    text.append("image ").append(outcome.imageName()).append(" (").append(outcome.imageReference());
    text.append(") is ready on provisioner ").append(outcome.provisionerName());
    text.append(" (").append(outcome.provisionerUrl()).append(")\n");
    text.append("    Launch it in the portal, or: ./airlock containers create --image ");
    text.append(outcome.imageName()).append(" --wait\n");
    if (!outcome.provisionerCreated()
        && !outcome.provisionerUrl().equals(properties.provisionerUrl())) {
      text.append("    Note: provisioner ").append(outcome.provisionerName());
      text.append(" was registered with ").append(outcome.provisionerUrl());
      text.append(", not this start's ").append(properties.provisionerUrl());
      text.append("; left as it is (delete it to have it registered again).\n");
    }
    if (!outcome.imageCreated() && !outcome.imageReference().equals(properties.imageReference())) {
      text.append("    Note: image ").append(outcome.imageName());
      text.append(" runs ").append(outcome.imageReference());
      text.append(", not ").append(properties.imageReference());
      text.append("; left as an administrator set it.\n");
    }
    return text.toString();
  }
}
