package dev.airlock.provisioner.isolation;

import dev.airlock.provisioner.api.model.IsolationProfile;
import java.util.List;

/**
 * Everything a profile decides about one container, resolved against the request and the engine.
 * Common to every profile: never privileged, no host mounts or devices, every capability dropped
 * but {@link #keptCapabilities}, no-new-privileges, a read-only root with a {@link #tmpfsBytes}
 * tmpfs at {@code /tmp}, and the limits below.
 *
 * @param profile the profile this came from
 * @param user the user (uid:gid) forced on the container, or null for the image's own
 * @param keptCapabilities capabilities left after dropping all (Docker names, without {@code CAP_})
 * @param memoryBytes the memory limit (swap included, in plain mode)
 * @param cpuMillis the CPU limit, in thousandths of a core
 * @param pids the most processes and threads at once
 * @param tmpfsBytes the size of the tmpfs at {@code /tmp}
 * @param runtime the OCI runtime to ask for, or null for the engine's default
 * @param strictNetwork whether the container goes on the strict (internal) network rather than the
 *     configured one
 */
public record Isolation(
    IsolationProfile profile,
    String user,
    List<String> keptCapabilities,
    long memoryBytes,
    int cpuMillis,
    int pids,
    long tmpfsBytes,
    String runtime,
    boolean strictNetwork) {

  /** The CPU limit in the engine's unit, billionths of a core. */
  public long nanoCpus() {
    return cpuMillis * 1_000_000L;
  }
}
