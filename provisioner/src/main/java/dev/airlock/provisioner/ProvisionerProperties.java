package dev.airlock.provisioner;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The provisioner's settings ({@code airlock.provisioner.*}, or the matching {@code
 * AIRLOCK_PROVISIONER_*} environment variables). Checked when bound: a bad value stops the start
 * with a message naming the setting, what it was and what was expected.
 *
 * @param id this provisioner's id, written in the {@code dev.airlock.provisioner} label of every
 *     container it creates; empty means the host name
 * @param dockerHost the engine's local socket, {@code unix:///…}
 * @param mode {@code auto} (Swarm when the engine is a Swarm manager, plain otherwise), {@code
 *     swarm} or {@code plain}
 * @param maxContainers the most containers (any state) this provisioner owns at once
 * @param network the network of {@code standard} containers ({@code host} by default, see
 *     docs/provisioner.md for production)
 * @param strictNetwork the internal bridge network of {@code strict} containers, created if missing
 * @param strictBridge the Linux bridge interface of that network (at most 15 characters)
 * @param strictSubnet the strict network's subnet when it is created (empty: the engine picks one)
 * @param strictEgressGuard whether this provisioner itself keeps the host from forwarding packets
 *     out of the strict bridge and isolates its ports from each other (it must then run as root in
 *     the host's network namespace); turn off only where the engine's own iptables rules isolate
 *     the internal network
 * @param swarmWithoutNoNewPrivileges allow Swarm services on an engine that cannot set
 *     no-new-privileges on them (Docker API before 1.44 without {@code dockerd
 *     --no-new-privileges}); off by default, so such an engine refuses to create
 * @param engineConnectTimeout how long connecting to the socket may take
 * @param engineTimeout how long one engine operation may take
 * @param startTimeout how long a create waits for a Swarm task to start
 * @param tls the certificate files of mutual TLS
 */
@ConfigurationProperties("airlock.provisioner")
public record ProvisionerProperties(
    @DefaultValue("") String id,
    @DefaultValue("unix:///var/run/docker.sock") String dockerHost,
    @DefaultValue("auto") ModeSetting mode,
    @DefaultValue("50") int maxContainers,
    @DefaultValue("host") String network,
    @DefaultValue("airlock-strict") String strictNetwork,
    @DefaultValue("airlock-strict0") String strictBridge,
    @DefaultValue("") String strictSubnet,
    @DefaultValue("true") boolean strictEgressGuard,
    @DefaultValue("false") boolean swarmWithoutNoNewPrivileges,
    @DefaultValue("2s") Duration engineConnectTimeout,
    @DefaultValue("30s") Duration engineTimeout,
    @DefaultValue("20s") Duration startTimeout,
    @DefaultValue Tls tls) {

  /** Which kind of workload the provisioner creates. */
  public enum ModeSetting {
    AUTO,
    SWARM,
    PLAIN
  }

  /**
   * The PEM files of mutual TLS; all three are required.
   *
   * @param certFile this server's certificate (chain), e.g. {@code deploy/pki.sh server} output
   * @param keyFile its private key (PKCS#8)
   * @param caFile the CA a client's certificate must be signed by
   */
  public record Tls(Path certFile, Path keyFile, Path caFile) {

    public Tls {
      readable("tls.cert-file", certFile, "this server's PEM certificate");
      readable("tls.key-file", keyFile, "this server's PEM private key");
      readable(
          "tls.ca-file", caFile, "the PEM certificate of the CA that signs client certificates");
    }

    private static void readable(String name, Path file, String what) {
      String hint =
          " (expected: " + what + ", e.g. made by deploy/pki.sh; see docs/provisioner.md)";
      if (file == null) {
        throw new IllegalArgumentException("airlock.provisioner." + name + " is not set" + hint);
      }
      if (!Files.isRegularFile(file)) {
        throw new IllegalArgumentException(
            "airlock.provisioner." + name + ": " + file + " does not exist" + hint);
      }
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException(
            "airlock.provisioner." + name + ": " + file + " is not readable by this user" + hint);
      }
    }
  }

  public ProvisionerProperties {
    if (!dockerHost.startsWith("unix:///")) {
      throw new IllegalArgumentException(
          "airlock.provisioner.docker-host: "
              + dockerHost
              + " (expected: the engine's local socket, unix:///path, e.g."
              + " unix:///var/run/docker.sock; a remote engine is never used)");
    }
    if (maxContainers < 1) {
      throw new IllegalArgumentException(
          "airlock.provisioner.max-containers: " + maxContainers + " (expected: >= 1)");
    }
    if (network.isBlank()) {
      throw new IllegalArgumentException(
          "airlock.provisioner.network is empty (expected: a network name, e.g. host)");
    }
    if (!strictNetwork.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}")) {
      throw new IllegalArgumentException(
          "airlock.provisioner.strict-network: "
              + strictNetwork
              + " (expected: a network name, [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 63 characters)");
    }
    if (!strictBridge.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}")) {
      throw new IllegalArgumentException(
          "airlock.provisioner.strict-bridge: "
              + strictBridge
              + " (expected: an interface name, [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 15 characters)");
    }
    if (!strictSubnet.isEmpty() && !strictSubnet.matches("\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}")) {
      throw new IllegalArgumentException(
          "airlock.provisioner.strict-subnet: "
              + strictSubnet
              + " (expected: empty, or an IPv4 CIDR such as 10.213.0.0/24)");
    }
    positive("engine-connect-timeout", engineConnectTimeout);
    positive("engine-timeout", engineTimeout);
    positive("start-timeout", startTimeout);
    id = id.strip();
    if (!id.isEmpty() && !id.matches("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}")) {
      throw new IllegalArgumentException(
          "airlock.provisioner.id: "
              + id
              + " (expected: empty for the host name, or [a-zA-Z0-9][a-zA-Z0-9_.-]*, at most 63"
              + " characters)");
    }
  }

  private static void positive(String name, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(
          "airlock.provisioner." + name + ": " + value + " (expected: a positive duration)");
    }
  }
}
