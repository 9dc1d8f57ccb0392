package dev.airlock.provisioner.container;

import dev.airlock.provisioner.api.model.Container;
import dev.airlock.provisioner.api.model.Mode;
import dev.airlock.provisioner.engine.EngineFacts;
import dev.airlock.provisioner.isolation.Isolation;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a container is on the engine: a plain container ({@link PlainContainers}) or a one-replica
 * Swarm service ({@link SwarmServices}). Every method blocks on the engine; callers run them
 * through {@code DockerEngine.call}.
 */
public interface ContainerBackend {

  Mode mode();

  /** The container or service named {@code airlock-<key>}, whoever owns it. */
  Optional<Found> find(String key);

  /** Every container this provisioner owns, in any state. */
  List<Container> list();

  /** How many containers this provisioner owns, in any state. */
  int countOwned();

  /**
   * Creates and starts the container for a validated request.
   *
   * @param imageId the id of the image to run (never a reference that could be pulled)
   * @param network the network to attach it to
   * @throws NameTakenException when {@code airlock-<key>} appeared meanwhile
   */
  Container create(
      ContainerRequest request,
      String imageId,
      Isolation isolation,
      String network,
      EngineFacts facts);

  /** Removes the container this provisioner owns for a key; false when there was none. */
  boolean remove(String key);

  /**
   * A container or service found by name.
   *
   * @param labels all its labels, to tell who owns it
   * @param container it, as the API shows it
   */
  record Found(Map<String, String> labels, Container container) {}

  /** The engine refused a create because the name is taken (a concurrent create won). */
  class NameTakenException extends RuntimeException {
    public NameTakenException(String name) {
      super(name + " exists", null, false, false);
    }
  }
}
