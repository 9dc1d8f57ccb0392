package dev.airlock.provisioner.network;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.airlock.provisioner.ProvisionerProperties;
import dev.airlock.provisioner.api.model.Mode;
import dev.airlock.provisioner.engine.DockerEngine;
import dev.airlock.provisioner.problem.ApiProblem;
import dev.airlock.provisioner.problem.ProblemType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * The network of {@code strict} containers: an internal Docker bridge ({@code
 * airlock.provisioner.strict-network}, Linux bridge {@code strict-bridge}), created when first
 * needed. In plain mode it is a local bridge network; in Swarm mode a swarm-scoped bridge network
 * made from a local config-only network ({@code <name>-config}), since a service cannot join a
 * local network.
 *
 * <p>Docker's {@code --internal} alone still gives each container a default route through the host,
 * and it is the engine's iptables rules that keep packets from leaving; an engine run with {@code
 * --iptables=false} has none. So unless {@code strict-egress-guard} is off, this class also makes
 * the host itself refuse to forward what arrives on the bridge ({@code
 * net.ipv4.conf.<bridge>.forwarding=0}: a strict container reaches this host's own addresses, where
 * signal and STUN listen, and nothing behind it), and marks every port of the bridge isolated
 * ({@code brport/isolated=1}: strict containers cannot reach each other). Both need root in the
 * host's network namespace, and both are checked again before every strict create.
 */
@Component
public class StrictNetwork {

  private static final Logger log = LoggerFactory.getLogger(StrictNetwork.class);
  private static final String LABEL_MANAGED = "dev.airlock.managed";

  private final DockerEngine engine;
  private final ProvisionerProperties properties;
  private final Path procSys = Path.of("/proc/sys/net/ipv4/conf");
  private final Path sysClassNet = Path.of("/sys/class/net");

  public StrictNetwork(DockerEngine engine, ProvisionerProperties properties) {
    this.engine = engine;
    this.properties = properties;
  }

  /** The network's name, as containers and services attach to it. */
  public String name() {
    return properties.strictNetwork();
  }

  /**
   * Makes sure the network exists in the form the mode needs, creating it if missing, then applies
   * the egress guard where the bridge already exists. Blocking; run through {@link
   * DockerEngine#call}.
   */
  public void prepare(Mode mode) {
    Network existing = inspect(name());
    if (existing == null) {
      create(mode);
    } else {
      String scope = mode == Mode.SWARM ? "swarm" : "local";
      if (!scope.equals(existing.getScope()) || !Boolean.TRUE.equals(existing.getInternal())) {
        throw new ApiProblem(
            ProblemType.INTERNAL,
            "The strict network "
                + name()
                + " exists with scope "
                + existing.getScope()
                + (Boolean.TRUE.equals(existing.getInternal()) ? "" : ", not internal")
                + " (expected: an internal bridge network of scope "
                + scope
                + " in "
                + mode.getValue()
                + " mode); remove it (docker network rm "
                + name()
                + ") and the provisioner creates the right one");
      }
    }
    guard(mode == Mode.PLAIN);
  }

  /**
   * Applies the egress guard to the bridge as it is now: host forwarding off for it, every port
   * isolated. Blocking.
   *
   * @param bridgeMustExist whether a missing bridge is an error (plain mode creates it with the
   *     network; a Swarm node creates it with its first strict task)
   * @return whether the bridge exists on this host
   */
  public boolean guard(boolean bridgeMustExist) {
    if (!properties.strictEgressGuard()) {
      return false;
    }
    String bridge = properties.strictBridge();
    Path forwarding = procSys.resolve(bridge).resolve("forwarding");
    if (!Files.exists(forwarding)) {
      if (bridgeMustExist) {
        throw guardFailure(
            "the bridge "
                + bridge
                + " of network "
                + name()
                + " is not in this network namespace (a network made by someone else may use"
                + " another bridge: set airlock.provisioner.strict-bridge to its name)",
            null);
      }
      return false;
    }
    try {
      if (!"0".equals(Files.readString(forwarding).strip())) {
        Files.writeString(forwarding, "0");
        log.info("Host forwarding turned off for {} (strict network {})", bridge, name());
      }
      Path ports = sysClassNet.resolve(bridge).resolve("brif");
      if (Files.isDirectory(ports)) {
        try (Stream<Path> each = Files.list(ports)) {
          for (Path port : each.toList()) {
            Path isolated = port.resolve("isolated");
            if (Files.exists(isolated) && !"1".equals(Files.readString(isolated).strip())) {
              Files.writeString(isolated, "1");
            }
          }
        }
      }
      if (!"0".equals(Files.readString(forwarding).strip())) {
        throw guardFailure(forwarding + " is still not 0 after writing it", null);
      }
    } catch (IOException e) {
      throw guardFailure("writing " + forwarding + " or a port's isolated flag failed", e);
    }
    return true;
  }

  private ApiProblem guardFailure(String what, IOException cause) {
    String detail =
        "strict egress cannot be enforced: "
            + what
            + (cause == null ? "" : " (" + cause + ")")
            + ". Run the provisioner as root in the host's network namespace, or set"
            + " airlock.provisioner.strict-egress-guard=false where the engine's own iptables"
            + " rules isolate internal networks (see docs/provisioner.md)";
    log.error("{}", detail);
    return new ApiProblem(ProblemType.INTERNAL, detail);
  }

  private Network inspect(String network) {
    try {
      return engine.client().inspectNetworkCmd().withNetworkId(network).exec();
    } catch (NotFoundException e) {
      return null;
    }
  }

  private void create(Mode mode) {
    Map<String, Object> options = new LinkedHashMap<>();
    options.put("com.docker.network.bridge.name", properties.strictBridge());
    // Enforced by the engine's iptables only; without them the guard isolates the ports.
    options.put("com.docker.network.bridge.enable_icc", "false");
    Map<String, Object> ipam =
        properties.strictSubnet().isEmpty()
            ? Map.of("Driver", "default")
            : Map.of(
                "Driver",
                "default",
                "Config",
                List.of(Map.of("Subnet", properties.strictSubnet())));
    Map<String, String> labels = Map.of(LABEL_MANAGED, "true");
    if (mode == Mode.PLAIN) {
      post(
          Map.of(
              "Name",
              name(),
              "CheckDuplicate",
              true,
              "Driver",
              "bridge",
              "Internal",
              true,
              "Attachable",
              false,
              "Options",
              options,
              "IPAM",
              ipam,
              "Labels",
              labels));
    } else {
      String config = name() + "-config";
      if (inspect(config) == null) {
        post(
            Map.of(
                "Name", config,
                "CheckDuplicate", true,
                "Driver", "null",
                "ConfigOnly", true,
                "Options", options,
                "IPAM", ipam,
                "Labels", labels));
      }
      post(
          Map.of(
              "Name",
              name(),
              "CheckDuplicate",
              true,
              "Driver",
              "bridge",
              "Scope",
              "swarm",
              "ConfigFrom",
              Map.of("Network", config),
              "Internal",
              true,
              // No labels: the engine refuses any setting of its own on a network made from a
              // config-only one.
              "Attachable",
              false));
    }
    log.info(
        "Created the strict network {} ({} mode, bridge {}, subnet {})",
        name(),
        mode.getValue(),
        properties.strictBridge(),
        properties.strictSubnet().isEmpty() ? "picked by the engine" : properties.strictSubnet());
  }

  /** docker-java's create-network command has no scope or config-only, so this one is raw. */
  private void post(Map<String, Object> body) {
    DockerHttpClient.Request request =
        DockerHttpClient.Request.builder()
            .method(DockerHttpClient.Request.Method.POST)
            .path("/networks/create")
            .putHeader("Content-Type", "application/json")
            .bodyBytes(JsonMapper.shared().writeValueAsBytes(body))
            .build();
    try (DockerHttpClient.Response response = engine.http().execute(request)) {
      if (response.getStatusCode() / 100 != 2) {
        String message;
        try (InputStream in = response.getBody()) {
          message = new String(in.readNBytes(2048), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          message = "(unreadable answer)";
        }
        throw new ApiProblem(
            ProblemType.INTERNAL,
            "The engine refused to create network "
                + body.get("Name")
                + ": HTTP "
                + response.getStatusCode()
                + " "
                + message);
      }
    }
  }
}
