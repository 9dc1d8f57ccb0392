package dev.airlock.provisioner.isolation;

import dev.airlock.provisioner.api.model.IsolationProfile;
import dev.airlock.provisioner.api.model.Resources;
import java.util.List;

/**
 * The isolation profiles this provisioner knows and their limits. A requested limit above the
 * profile's maximum is lowered to it; a missing one takes the profile's default. The CPU limit is
 * also capped at the engine host's CPUs, which the engine requires.
 *
 * <table>
 *   <caption>Defaults and maxima</caption>
 *   <tr><th></th><th>standard</th><th>strict</th></tr>
 *   <tr><td>memory</td><td>2 GiB, at most 8 GiB</td><td>1 GiB, at most 4 GiB</td></tr>
 *   <tr><td>CPU</td><td>2 cores, at most 8</td><td>1 core, at most 4</td></tr>
 *   <tr><td>pids</td><td>1024, at most 4096</td><td>512, at most 2048</td></tr>
 *   <tr><td>/tmp</td><td>256 MiB</td><td>256 MiB</td></tr>
 *   <tr><td>capabilities kept</td><td>CHOWN SETUID SETGID DAC_OVERRIDE FOWNER KILL</td>
 *       <td>none</td></tr>
 *   <tr><td>user</td><td>the image's</td><td>10001:10001</td></tr>
 *   <tr><td>runtime</td><td>engine default</td><td>runsc (gVisor) when the engine has it</td></tr>
 *   <tr><td>network</td><td>airlock.provisioner.network</td>
 *       <td>airlock.provisioner.strict-network</td></tr>
 * </table>
 */
public final class IsolationProfiles {

  /** The uid and gid forced by {@code strict}. */
  public static final String STRICT_USER = "10001:10001";

  /** gVisor's runtime, used by {@code strict} when the engine offers it. */
  public static final String GVISOR_RUNTIME = "runsc";

  /** Kept by {@code standard}: enough for an image's entrypoint to set up files and drop root. */
  public static final List<String> STANDARD_CAPABILITIES =
      List.of("CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "KILL");

  public static final long TMPFS_BYTES = 256L << 20;

  private static final long GIB = 1L << 30;

  private IsolationProfiles() {}

  /**
   * Resolves a profile against the requested limits and the engine's runtimes.
   *
   * @param requested the request's limits, or null
   * @param runtimes the OCI runtimes the engine offers
   * @param hostCpus the engine host's CPUs: the engine refuses a CPU limit above them
   */
  public static Isolation resolve(
      IsolationProfile profile, Resources requested, List<String> runtimes, int hostCpus) {
    Resources limits = requested == null ? new Resources() : requested;
    long cpuCeiling = hostCpus > 0 ? hostCpus * 1000L : Long.MAX_VALUE;
    return switch (profile) {
      case STANDARD ->
          new Isolation(
              profile,
              null,
              STANDARD_CAPABILITIES,
              capped(limits.getMemoryBytes(), 2 * GIB, 8 * GIB),
              (int)
                  capped(
                      limits.getCpuMillis(),
                      Math.min(2000, cpuCeiling),
                      Math.min(8000, cpuCeiling)),
              (int) capped(limits.getPids(), 1024, 4096),
              TMPFS_BYTES,
              null,
              false);
      case STRICT ->
          new Isolation(
              profile,
              STRICT_USER,
              List.of(),
              capped(limits.getMemoryBytes(), GIB, 4 * GIB),
              (int)
                  capped(
                      limits.getCpuMillis(),
                      Math.min(1000, cpuCeiling),
                      Math.min(4000, cpuCeiling)),
              (int) capped(limits.getPids(), 512, 2048),
              TMPFS_BYTES,
              runtimes.contains(GVISOR_RUNTIME) ? GVISOR_RUNTIME : null,
              true);
    };
  }

  private static long capped(Number requested, long byDefault, long max) {
    return requested == null ? byDefault : Math.min(requested.longValue(), max);
  }
}
