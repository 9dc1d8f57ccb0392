package dev.airlock.provisioner.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import dev.airlock.provisioner.api.model.Capacity;
import dev.airlock.provisioner.api.model.Container;
import dev.airlock.provisioner.api.model.Problem;
import dev.airlock.provisioner.support.ProvisionerClient;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestEngine.ExecResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * What a provisioner does in either mode, against the real test engine: the lifecycle of a
 * container by key, and the isolation of each profile, checked both on the engine's view of the
 * container and from a process inside it. {@link PlainModeTest} and {@link SwarmModeTest} run it.
 */
abstract class ModeContract {

  static final String GIB = String.valueOf(1L << 30);

  @LocalServerPort int port;

  WebTestClient client;

  /** The provisioner id of the class's server. */
  abstract String provisionerId();

  /** {@code plain} or {@code swarm}. */
  abstract String expectedMode();

  /** The id of the Docker container behind a container's {@code engineId}. */
  abstract String engineContainer(String engineId);

  /** Whether the engine is gone: no container (or service) left for the key. */
  abstract boolean goneFromEngine(String key);

  /** Whether containers of this mode get no-new-privileges on this engine (seen in /proc). */
  abstract boolean noNewPrivilegesExpected();

  @BeforeEach
  void connect() {
    client = ProvisionerClient.platform(port);
  }

  @AfterEach
  void removeWhatTheTestMade() {
    TestEngine.removeOwnedBy(provisionerId());
    TestEngine.removeTestHelpers();
  }

  static String newKey() {
    return "t-" + UUID.randomUUID().toString().substring(0, 13);
  }

  static Map<String, Object> spec(String image, String profile) {
    return Map.of("image", image, "profile", profile);
  }

  EntityExchangeResult<Container> put(String key, Object body, HttpStatus expected) {
    return client
        .put()
        .uri("/containers/{key}", key)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange()
        .expectStatus()
        .isEqualTo(expected)
        .expectBody(Container.class)
        .returnResult();
  }

  Problem problem(WebTestClient.RequestHeadersSpec<?> request, HttpStatus expected) {
    return request
        .exchange()
        .expectStatus()
        .isEqualTo(expected)
        .expectHeader()
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody(Problem.class)
        .returnResult()
        .getResponseBody();
  }

  Problem putProblem(String key, Object body, HttpStatus expected) {
    return problem(
        client
            .put()
            .uri("/containers/{key}", key)
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(body),
        expected);
  }

  @Test
  void capacityReportsModeEngineProfilesAndImages() {
    Capacity capacity =
        client
            .get()
            .uri("/capacity")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(Capacity.class)
            .returnResult()
            .getResponseBody();
    assertThat(capacity.getMode().getValue()).isEqualTo(expectedMode());
    assertThat(capacity.getProvisionerId()).isEqualTo(provisionerId());
    assertThat(capacity.getEngineVersion()).isNotBlank();
    assertThat(capacity.getRunning()).isZero();
    assertThat(capacity.getMemoryBytes()).isPositive();
    assertThat(capacity.getCpus()).isPositive();
    assertThat(capacity.getProfiles())
        .extracting(Object::toString)
        .containsExactly("standard", "strict");
    assertThat(capacity.getRuntimes()).contains("runc");
    assertThat(capacity.getImages()).contains(TestEngine.PROBE_IMAGE);
  }

  @Test
  void aContainerIsCreatedOnceFoundListedAndDeleted() {
    String key = newKey();
    String secret = "join-" + UUID.randomUUID();
    Map<String, Object> body =
        Map.of(
            "image",
            TestEngine.PROBE_IMAGE,
            "profile",
            "standard",
            "env",
            Map.of("AIRLOCK_JOIN_TOKEN", secret),
            "labels",
            Map.of("team", "qa", "ticket", "T-1"));

    var created = put(key, body, HttpStatus.CREATED);
    Container container = created.getResponseBody();
    assertThat(container.getKey()).isEqualTo(key);
    assertThat(container.getState().getValue()).isEqualTo("running");
    assertThat(container.getMode().getValue()).isEqualTo(expectedMode());
    assertThat(container.getImage()).isEqualTo(TestEngine.PROBE_IMAGE);
    assertThat(container.getProfile().getValue()).isEqualTo("standard");
    assertThat(container.getLabels()).isEqualTo(Map.of("team", "qa", "ticket", "T-1"));
    assertThat(container.getEngineId()).isNotBlank();
    assertThat(new String(created.getResponseBodyContent())).doesNotContain(secret);

    // The same key and image again: the same container, nothing new.
    var again = put(key, body, HttpStatus.OK);
    assertThat(again.getResponseBody().getEngineId()).isEqualTo(container.getEngineId());
    assertThat(new String(again.getResponseBodyContent())).doesNotContain(secret);

    // The same key with another image: refused.
    Problem conflict =
        putProblem(key, spec("airlock/base:bookworm", "standard"), HttpStatus.CONFLICT);
    assertThat(conflict.getType()).isEqualTo("urn:airlock:problem:conflict");
    assertThat(conflict.getDetail()).contains(TestEngine.PROBE_IMAGE);

    var found =
        client
            .get()
            .uri("/containers/{key}", key)
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(Container.class)
            .returnResult();
    assertThat(found.getResponseBody().getEngineId()).isEqualTo(container.getEngineId());
    assertThat(found.getResponseBody().getState().getValue()).isEqualTo("running");
    assertThat(found.getResponseBody().getStartedAt()).isNotNull();
    assertThat(new String(found.getResponseBodyContent())).doesNotContain(secret);

    var listed =
        client
            .get()
            .uri("/containers")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBodyList(Container.class)
            .returnResult();
    assertThat(listed.getResponseBody())
        .singleElement()
        .satisfies(
            c -> {
              assertThat(c.getKey()).isEqualTo(key);
              assertThat(c.getLabels()).containsEntry("team", "qa");
              assertThat(c.getState().getValue()).isEqualTo("running");
            });
    assertThat(new String(listed.getResponseBodyContent())).doesNotContain(secret);

    client.delete().uri("/containers/{key}", key).exchange().expectStatus().isNoContent();
    TestEngine.await(
        "the engine has nothing left for " + key,
        Duration.ofSeconds(20),
        () -> goneFromEngine(key));
    client.delete().uri("/containers/{key}", key).exchange().expectStatus().isNoContent();
    Problem gone = problem(client.get().uri("/containers/{key}", key), HttpStatus.NOT_FOUND);
    assertThat(gone.getType()).isEqualTo("urn:airlock:problem:not-found");
    assertThat(gone.getDetail()).contains(key);
  }

  @Test
  void standardDropsCapabilitiesAndEnforcesLimits() throws Exception {
    String key = newKey();
    Container container =
        put(
                key,
                Map.of(
                    "image",
                    TestEngine.PROBE_IMAGE,
                    "profile",
                    "standard",
                    "resources",
                    Map.of("memoryBytes", 268_435_456, "cpuMillis", 500, "pids", 32)),
                HttpStatus.CREATED)
            .getResponseBody();
    String id = engineContainer(container.getEngineId());
    InspectContainerResponse inspect = TestEngine.docker().inspectContainerCmd(id).exec();
    HostConfig host = inspect.getHostConfig();
    assertCommonIsolation(inspect);
    assertThat(host.getCapAdd())
        .extracting(Capability::name)
        .containsExactlyInAnyOrder("CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "KILL");
    assertThat(host.getMemory()).isEqualTo(268_435_456L);
    assertThat(host.getNanoCPUs()).isEqualTo(500_000_000L);
    assertThat(host.getPidsLimit()).isEqualTo(32L);
    assertThat(inspect.getConfig().getUser()).isEmpty();

    // From inside: root of the image, but with six capabilities, a read-only root and no mounts.
    assertThat(TestEngine.exec(id, "id", "-u").output().strip()).isEqualTo("0");
    assertThat(capabilityMask(id, "CapBnd")).isEqualTo(standardMask());
    assertForbiddenFails(id);
    // More processes than the pids limit (32) cannot be created.
    ExecResult forks =
        TestEngine.exec(
            id,
            "sh",
            "-c",
            "i=0; while [ $i -lt 48 ]; do sleep 30 & i=$((i+1)); done 2>&1; echo started $i");
    assertThat(forks.output()).containsAnyOf("Cannot fork", "Resource temporarily unavailable");
  }

  @Test
  void strictRunsAsUser10001WithoutAnyCapability() throws Exception {
    String key = newKey();
    Container container =
        put(
                key,
                Map.of(
                    "image",
                    TestEngine.PROBE_IMAGE,
                    "profile",
                    "strict",
                    // Above the profile's maxima: lowered to them (and CPU to the host's CPUs).
                    "resources",
                    Map.of("memoryBytes", 16L << 30, "cpuMillis", 64_000)),
                HttpStatus.CREATED)
            .getResponseBody();
    assertThat(container.getProfile().getValue()).isEqualTo("strict");
    String id = engineContainer(container.getEngineId());
    InspectContainerResponse inspect = TestEngine.docker().inspectContainerCmd(id).exec();
    HostConfig host = inspect.getHostConfig();
    assertCommonIsolation(inspect);
    assertThat(host.getCapAdd() == null ? List.of() : List.of(host.getCapAdd())).isEmpty();
    assertThat(inspect.getConfig().getUser()).isEqualTo("10001:10001");
    assertThat(host.getMemory()).isEqualTo(4L << 30);
    int cpus = Runtime.getRuntime().availableProcessors();
    assertThat(host.getNanoCPUs()).isEqualTo(Math.min(4, cpus) * 1_000_000_000L);
    assertThat(host.getPidsLimit()).isEqualTo(512L);
    // gVisor is used when the engine has it; this test engine does not.
    assertThat(host.getRuntime()).isEqualTo("runc");
    assertThat(inspect.getNetworkSettings().getNetworks()).containsOnlyKeys(strictNetwork());

    assertThat(TestEngine.exec(id, "id", "-u").output().strip()).isEqualTo("10001");
    assertThat(capabilityMask(id, "CapBnd")).isZero();
    assertThat(capabilityMask(id, "CapEff")).isZero();
    assertForbiddenFails(id);
  }

  /** The strict network's name in this class's settings. */
  abstract String strictNetwork();

  @Test
  void strictReachesOnlyTheHost() throws Exception {
    EgressProbe probe = EgressProbe.start();
    String a =
        engineContainer(
            put(newKey(), spec(TestEngine.PROBE_IMAGE, "strict"), HttpStatus.CREATED)
                .getResponseBody()
                .getEngineId());
    String b =
        engineContainer(
            put(newKey(), spec(TestEngine.PROBE_IMAGE, "strict"), HttpStatus.CREATED)
                .getResponseBody()
                .getEngineId());
    var network = TestEngine.docker().inspectContainerCmd(a).exec().getNetworkSettings();
    String gateway = network.getNetworks().get(strictNetwork()).getGateway();
    String peer =
        TestEngine.docker()
            .inspectContainerCmd(b)
            .exec()
            .getNetworkSettings()
            .getNetworks()
            .get(strictNetwork())
            .getIpAddress();

    // The control: from an ordinary bridge, the host forwards to the target, which refuses.
    assertThat(EgressProbe.connect(probe.control(), probe.target())).isEqualTo("refused");
    // Strict: the host's address on the bridge answers (signal and STUN listen there) ...
    assertThat(EgressProbe.connect(a, gateway)).isEqualTo("refused");
    // ... nothing behind the host does, nor the other strict container.
    assertThat(EgressProbe.connect(a, probe.target())).isEqualTo("unreachable");
    assertThat(EgressProbe.connect(a, peer)).isEqualTo("unreachable");
  }

  private void assertCommonIsolation(InspectContainerResponse inspect) {
    HostConfig host = inspect.getHostConfig();
    assertThat(host.getPrivileged()).isFalse();
    assertThat(host.getReadonlyRootfs()).isTrue();
    assertThat(host.getCapDrop()).extracting(Capability::name).containsExactly("ALL");
    assertThat(host.getBinds() == null ? List.of() : List.of(host.getBinds())).isEmpty();
    assertThat(host.getDevices() == null ? List.of() : List.of(host.getDevices())).isEmpty();
    // Only the tmpfs at /tmp, no directory of the host: a tmpfs in plain mode; in Swarm mode an
    // anonymous tmpfs volume of the local driver (see SwarmServices.scratch).
    if (expectedMode().equals("plain")) {
      assertThat(inspect.getMounts()).isEmpty();
      assertThat(host.getTmpFs()).containsOnlyKeys("/tmp");
    } else {
      assertThat(inspect.getMounts())
          .singleElement()
          .satisfies(
              mount -> {
                assertThat(mount.getDestination().getPath()).isEqualTo("/tmp");
                assertThat(mount.getDriver()).isEqualTo("local");
              });
    }
    if (expectedMode().equals("plain")) {
      // A service cannot carry it before API 1.44; the engine's default then applies (below).
      assertThat(host.getSecurityOpts()).contains("no-new-privileges:true");
    }
  }

  private void assertForbiddenFails(String id) throws Exception {
    ExecResult write = TestEngine.exec(id, "sh", "-c", "echo x > /usr/airlock-probe");
    assertThat(write.exitCode()).isNotZero();
    assertThat(write.output()).contains("Read-only file system");
    ExecResult mount = TestEngine.exec(id, "mount", "-t", "tmpfs", "none", "/mnt");
    assertThat(mount.exitCode()).isNotZero();
    ExecResult tmp =
        TestEngine.exec(id, "sh", "-c", "echo x > /tmp/ok && grep ' /tmp ' /proc/mounts");
    assertThat(tmp.exitCode()).isZero();
    assertThat(tmp.output()).contains("tmpfs", "nosuid", "nodev", "size=262144k");
    // The agent's JVM loads the native library it unpacks into /tmp.
    ExecResult run = TestEngine.exec(id, "sh", "-c", "cp /bin/sh /tmp/sh && /tmp/sh -c 'echo ran'");
    assertThat(run.output()).contains("ran");
    assertThat(run.exitCode()).isZero();
    String noNewPrivileges =
        TestEngine.exec(id, "sh", "-c", "grep NoNewPrivs /proc/self/status").output();
    if (noNewPrivilegesExpected()) {
      assertThat(noNewPrivileges).contains("NoNewPrivs:\t1");
    }
  }

  private static long capabilityMask(String id, String field) throws Exception {
    String line = TestEngine.exec(id, "sh", "-c", "grep " + field + " /proc/self/status").output();
    return Long.parseUnsignedLong(line.substring(line.indexOf(':') + 1).strip(), 16);
  }

  /** CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, KILL 5, SETGID 6, SETUID 7. */
  private static long standardMask() {
    return (1L << 0) | (1L << 1) | (1L << 3) | (1L << 5) | (1L << 6) | (1L << 7);
  }
}
