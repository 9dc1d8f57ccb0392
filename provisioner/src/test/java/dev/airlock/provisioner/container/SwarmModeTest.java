package dev.airlock.provisioner.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import dev.airlock.provisioner.api.model.Problem;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestPki;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A provisioner with {@code mode=auto} on the test engine, a Swarm manager: it must pick Swarm and
 * make each container a one-replica service. The test engine is Docker 20.10 (API 1.41) without
 * {@code --no-new-privileges}, so services cannot get no-new-privileges there; this class accepts
 * that gap explicitly ({@code swarm-without-no-new-privileges}) and checks everything else.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "airlock.provisioner.id=" + SwarmModeTest.ID,
      "airlock.provisioner.mode=auto",
      "airlock.provisioner.swarm-without-no-new-privileges=true",
      "airlock.provisioner.strict-network=" + SwarmModeTest.STRICT_NETWORK,
      "airlock.provisioner.strict-bridge=alk-test-swarm",
      "airlock.provisioner.start-timeout=2s"
    })
class SwarmModeTest extends ModeContract {

  static final String ID = "test-swarm";
  static final String STRICT_NETWORK = "airlock-test-strict-swarm";

  @DynamicPropertySource
  static void engineAndCertificates(DynamicPropertyRegistry registry) {
    registry.add("airlock.provisioner.docker-host", TestEngine::host);
    registry.add("airlock.provisioner.tls.cert-file", () -> TestPki.get().serverCert());
    registry.add("airlock.provisioner.tls.key-file", () -> TestPki.get().serverKey());
    registry.add("airlock.provisioner.tls.ca-file", () -> TestPki.get().ca());
  }

  @BeforeAll
  static void engineReady() throws Exception {
    TestEngine.requireImages();
    assertThat(TestEngine.docker().infoCmd().exec().getSwarm().getControlAvailable())
        .as("the test engine is a Swarm manager (docker swarm init)")
        .isTrue();
    TestEngine.removeOwnedBy(ID);
    removeStrictNetworks();
  }

  @AfterAll
  static void removeStrictNetworks() {
    TestEngine.removeOwnedBy(ID);
    TestEngine.removeNetwork(STRICT_NETWORK);
    TestEngine.removeNetwork(STRICT_NETWORK + "-config");
  }

  @Override
  String provisionerId() {
    return ID;
  }

  @Override
  String expectedMode() {
    return "swarm";
  }

  @Override
  String engineContainer(String serviceId) {
    Map<String, String> labels = Map.of("com.docker.swarm.service.id", serviceId);
    TestEngine.await(
        "a running container for service " + serviceId,
        Duration.ofSeconds(20),
        () -> TestEngine.containers(labels).stream().anyMatch(c -> "running".equals(c.getState())));
    return TestEngine.containers(labels).stream()
        .filter(c -> "running".equals(c.getState()))
        .map(Container::getId)
        .findFirst()
        .orElseThrow();
  }

  @Override
  boolean goneFromEngine(String key) {
    try {
      TestEngine.docker().inspectServiceCmd("airlock-" + key).exec();
      return false;
    } catch (NotFoundException e) {
      // The /tmp volume goes with its task, as the container does.
      return TestEngine.containers(Map.of("dev.airlock.container", key)).isEmpty()
          && TestEngine.docker()
              .listVolumesCmd()
              .withFilter("label", List.of("dev.airlock.container=" + key))
              .exec()
              .getVolumes()
              .isEmpty();
    }
  }

  @Override
  boolean noNewPrivilegesExpected() {
    // Only with dockerd --no-new-privileges on this Docker 20.10 (API 1.41) test engine.
    var security = TestEngine.docker().infoCmd().exec().getSecurityOptions();
    return security != null && security.contains("name=no-new-privileges");
  }

  @Override
  String strictNetwork() {
    return STRICT_NETWORK;
  }

  @Test
  void eachContainerIsAOneReplicaServiceThatIsNeverRestartedNorPulled() {
    String key = newKey();
    var container =
        put(key, spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.CREATED).getResponseBody();
    var service = TestEngine.docker().inspectServiceCmd("airlock-" + key).exec();
    assertThat(service.getId()).isEqualTo(container.getEngineId());
    var spec = service.getSpec();
    assertThat(spec.getMode().getReplicated().getReplicas()).isEqualTo(1);
    assertThat(spec.getTaskTemplate().getRestartPolicy().getCondition())
        .isEqualTo(com.github.dockerjava.api.model.ServiceRestartCondition.NONE);
    // By id: a node never pulls an image named by id.
    assertThat(spec.getTaskTemplate().getContainerSpec().getImage()).startsWith("sha256:");
    assertThat(spec.getLabels())
        .containsEntry("dev.airlock.managed", "true")
        .containsEntry("dev.airlock.provisioner", ID)
        .containsEntry("dev.airlock.container", key)
        .containsEntry("dev.airlock.profile", "standard");
    String id = engineContainer(service.getId());
    assertThat(TestEngine.docker().inspectContainerCmd(id).exec().getConfig().getLabels())
        .containsEntry("dev.airlock.container", key);
  }

  @Test
  void aTaskThatCannotBePlacedReportsTheEnginesReason() {
    String key = newKey();
    var container =
        put(
                key,
                Map.of(
                    "image",
                    TestEngine.PROBE_IMAGE,
                    "profile",
                    "standard",
                    "constraints",
                    List.of("node.labels.zone==nowhere")),
                HttpStatus.CREATED)
            .getResponseBody();
    assertThat(container.getState().getValue()).isEqualTo("created");
    assertThat(container.getError()).contains("no suitable node");
    var constraints =
        TestEngine.docker()
            .inspectServiceCmd("airlock-" + key)
            .exec()
            .getSpec()
            .getTaskTemplate()
            .getPlacement()
            .getConstraints();
    assertThat(constraints).containsExactly("node.labels.zone==nowhere");
  }

  @Test
  void aKeyTooLongForAServiceNameIsRefused() {
    String key = "k" + "0".repeat(55);
    Problem problem =
        putProblem(key, spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.BAD_REQUEST);
    assertThat(problem.getType()).isEqualTo("urn:airlock:problem:validation");
    assertThat(problem.getDetail()).contains("at most 55 in Swarm mode");
  }
}
