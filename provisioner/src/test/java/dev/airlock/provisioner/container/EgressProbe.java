package dev.airlock.provisioner.container;

import com.github.dockerjava.api.model.HostConfig;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestEngine.ExecResult;
import java.util.Map;

/**
 * Where a container's packets can go, seen from inside it: an "outside" bridge network with a
 * target container (nothing listens on it, so a reachable target refuses), and a "control"
 * container on another ordinary bridge, whose packets the host forwards to the target.
 *
 * @param target the target's address
 * @param control the control container's id
 */
record EgressProbe(String target, String control) {

  private static final Map<String, String> LABELS = Map.of(TestEngine.TEST_LABEL, "true");

  static EgressProbe start() {
    TestEngine.removeTestHelpers();
    String outside = network("airlock-test-outside");
    String controlNetwork = network("airlock-test-control");
    String target = container("airlock-test-target", outside);
    String control = container("airlock-test-control", controlNetwork);
    String address =
        TestEngine.docker()
            .inspectContainerCmd(target)
            .exec()
            .getNetworkSettings()
            .getNetworks()
            .get("airlock-test-outside")
            .getIpAddress();
    return new EgressProbe(address, control);
  }

  /**
   * Connects from a container to port 9 of an address: {@code refused} (it answered), {@code
   * unreachable} (no answer, or no route), or {@code open}.
   */
  static String connect(String containerId, String address) throws Exception {
    ExecResult result =
        TestEngine.exec(
            containerId,
            "bash",
            "-c",
            "timeout 2 bash -c ': > /dev/tcp/" + address + "/9' 2>&1; echo exit=$?");
    if (result.output().contains("Connection refused")) {
      return "refused";
    }
    if (result.output().contains("exit=0")) {
      return "open";
    }
    return "unreachable";
  }

  private static String network(String name) {
    return TestEngine.docker()
        .createNetworkCmd()
        .withName(name)
        .withDriver("bridge")
        .withLabels(LABELS)
        .exec()
        .getId();
  }

  private static String container(String name, String network) {
    String id =
        TestEngine.docker()
            .createContainerCmd(TestEngine.PROBE_IMAGE)
            .withName(name)
            .withLabels(LABELS)
            .withHostConfig(HostConfig.newHostConfig().withNetworkMode(network))
            .exec()
            .getId();
    TestEngine.docker().startContainerCmd(id).exec();
    return id;
  }
}
