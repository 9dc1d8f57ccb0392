package dev.airlock.provisioner.container;

import dev.airlock.provisioner.api.model.IsolationProfile;
import dev.airlock.provisioner.api.model.Resources;
import java.util.List;
import java.util.Map;

/**
 * A create request that passed {@link ContainerSpecValidation}. {@link #toString()} never shows the
 * environment, which holds the agent's join token.
 *
 * @param key the caller's key
 * @param image the image reference as requested
 * @param profile the isolation profile
 * @param env the environment (never logged, never returned)
 * @param labels the caller's labels, by their own names
 * @param resources the requested limits, or null
 * @param constraints Swarm placement constraints
 */
public record ContainerRequest(
    String key,
    String image,
    IsolationProfile profile,
    Map<String, String> env,
    Map<String, String> labels,
    Resources resources,
    List<String> constraints) {

  /** The environment as the engine takes it, {@code NAME=value}. */
  public List<String> envList() {
    return env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
  }

  @Override
  public String toString() {
    return "ContainerRequest[key="
        + key
        + ", image="
        + image
        + ", profile="
        + profile
        + ", env=("
        + env.size()
        + " variables)"
        + ", labels="
        + labels
        + ", constraints="
        + constraints
        + "]";
  }
}
