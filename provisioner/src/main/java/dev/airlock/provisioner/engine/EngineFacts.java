package dev.airlock.provisioner.engine;

import java.util.List;

/**
 * What the engine says about itself ({@code docker info} and {@code docker version}).
 *
 * @param version the engine's version, e.g. {@code 20.10.24}
 * @param apiVersion the highest Docker API version it speaks, e.g. {@code 1.41}
 * @param swarmManager whether this engine is an active Swarm manager
 * @param nodeId its Swarm node id, or empty when it is not in a swarm
 * @param runtimes the OCI runtimes it offers (e.g. {@code runc}, {@code runsc})
 * @param defaultRuntime the runtime a container gets when none is named
 * @param noNewPrivilegesByDefault whether the daemon runs with {@code --no-new-privileges}
 * @param memoryBytes the host's memory
 * @param cpus the host's CPUs
 */
public record EngineFacts(
    String version,
    String apiVersion,
    boolean swarmManager,
    String nodeId,
    List<String> runtimes,
    String defaultRuntime,
    boolean noNewPrivilegesByDefault,
    long memoryBytes,
    int cpus) {

  /** Whether the engine's API is at least {@code major.minor}. */
  public boolean apiAtLeast(int major, int minor) {
    String[] parts = apiVersion.split("\\.");
    try {
      int haveMajor = Integer.parseInt(parts[0]);
      int haveMinor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return haveMajor > major || (haveMajor == major && haveMinor >= minor);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * Whether Swarm services on this engine get no-new-privileges: set per service from API 1.44, or
   * for every container by the daemon's own {@code --no-new-privileges}.
   */
  public boolean servicesGetNoNewPrivileges() {
    return noNewPrivilegesByDefault || apiAtLeast(1, 44);
  }
}
