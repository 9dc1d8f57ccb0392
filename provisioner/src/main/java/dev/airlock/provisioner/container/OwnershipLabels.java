package dev.airlock.provisioner.container;

import dev.airlock.provisioner.isolation.Isolation;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The labels that mark a container (and, in Swarm mode, its service) as this provisioner's, and how
 * the caller's own labels are stored beside them.
 */
public final class OwnershipLabels {

  public static final String MANAGED = "dev.airlock.managed";
  public static final String PROVISIONER = "dev.airlock.provisioner";
  public static final String CONTAINER = "dev.airlock.container";
  public static final String PROFILE = "dev.airlock.profile";

  /** The image reference as requested (the engine runs it by id, so it is never pulled). */
  public static final String IMAGE = "dev.airlock.requested-image";

  /** Caller label {@code name} is stored as {@code dev.airlock.label.name}. */
  public static final String CALLER_PREFIX = "dev.airlock.label.";

  private OwnershipLabels() {}

  /** The name of the container or service for a key. */
  public static String name(String key) {
    return "airlock-" + key;
  }

  /** Every label of a new container. */
  public static Map<String, String> of(
      String provisionerId, ContainerRequest request, Isolation isolation) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(MANAGED, "true");
    labels.put(PROVISIONER, provisionerId);
    labels.put(CONTAINER, request.key());
    labels.put(PROFILE, isolation.profile().getValue());
    labels.put(IMAGE, request.image());
    request.labels().forEach((name, value) -> labels.put(CALLER_PREFIX + name, value));
    return labels;
  }

  /** Whether these labels say this provisioner owns the container. */
  public static boolean ownedBy(String provisionerId, Map<String, String> labels) {
    return labels != null
        && "true".equals(labels.get(MANAGED))
        && provisionerId.equals(labels.get(PROVISIONER));
  }

  /** The caller's labels among these, with their names as the caller gave them. */
  public static Map<String, String> callerLabels(Map<String, String> labels) {
    Map<String, String> caller = new LinkedHashMap<>();
    if (labels != null) {
      labels.forEach(
          (name, value) -> {
            if (name.startsWith(CALLER_PREFIX)) {
              caller.put(name.substring(CALLER_PREFIX.length()), value);
            }
          });
    }
    return caller;
  }
}
