package dev.airlock.provisioner.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The dedicated Docker Engine of the tests ({@code AIRLOCK_TEST_DOCKER_HOST}, started by
 * deploy/test-deps.sh), seen from the test's side: a docker-java client to check what the
 * provisioner made, run commands inside it, and remove whatever a test class leaves behind.
 */
public final class TestEngine {

  /** The image the tests run: the base image sleeping forever (deploy/images/build.sh). */
  public static final String PROBE_IMAGE = "airlock/test-probe:dev";

  /** Marks the helper containers and networks the tests create themselves. */
  public static final String TEST_LABEL = "dev.airlock.test";

  private static DockerClient docker;
  private static boolean imagesChecked;

  private TestEngine() {}

  /** The engine's socket; fails with what to do when the tests were not started right. */
  public static synchronized String host() {
    String host = System.getenv("AIRLOCK_TEST_DOCKER_HOST");
    if (host == null || host.isBlank()) {
      throw new IllegalStateException(
          "The provisioner tests need the test Docker Engine that deploy/test-deps.sh starts (as"
              + " root) and AIRLOCK_TEST_DOCKER_HOST pointing at it: run them with ./airlock test,"
              + " or eval \"$(deploy/test-deps.sh up)\" first");
    }
    return host;
  }

  /** A client of the test engine, shared by the tests. */
  public static synchronized DockerClient docker() {
    if (docker == null) {
      String host = host();
      docker =
          DockerClientImpl.getInstance(
              new DefaultDockerClientConfig.Builder().withDockerHost(host).build(),
              new ApacheDockerHttpClient.Builder()
                  .dockerHost(URI.create(host))
                  .connectionTimeout(Duration.ofSeconds(5))
                  .responseTimeout(Duration.ofSeconds(60))
                  .build());
    }
    return docker;
  }

  /**
   * Makes sure {@link #PROBE_IMAGE} is on the engine, building it with deploy/images/build.sh
   * (which does nothing for images that are up to date) when it is missing.
   */
  public static synchronized void requireImages() throws Exception {
    if (imagesChecked) {
      return;
    }
    if (!imagePresent(PROBE_IMAGE)) {
      Path script = repoDir().resolve("deploy/images/build.sh");
      if (!Files.isExecutable(script)) {
        throw new IllegalStateException(
            PROBE_IMAGE
                + " is not on the test engine and "
                + script
                + " is missing or not executable (expected: the script that builds Airlock's"
                + " images without a registry)");
      }
      Process build =
          new ProcessBuilder(script.toString(), "--docker-host", host())
              .directory(repoDir().toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.INHERIT)
              .start();
      if (!build.waitFor(20, TimeUnit.MINUTES)) {
        build.destroyForcibly();
        throw new IllegalStateException(script + " did not finish within 20 minutes");
      }
      if (build.exitValue() != 0 || !imagePresent(PROBE_IMAGE)) {
        throw new IllegalStateException(
            script
                + " --docker-host "
                + host()
                + " failed (exit "
                + build.exitValue()
                + ") and "
                + PROBE_IMAGE
                + " is still missing; its output is above");
      }
    }
    imagesChecked = true;
  }

  public static boolean imagePresent(String image) {
    try {
      docker().inspectImageCmd(image).exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  /** The repository's root directory. */
  public static Path repoDir() {
    return Path.of(System.getProperty("airlock.repo.dir", "..")).toAbsolutePath().normalize();
  }

  /**
   * Removes every service and container labelled as a provisioner's, and waits until the engine has
   * no container of it left.
   */
  public static void removeOwnedBy(String provisionerId) {
    Map<String, String> owned = Map.of("dev.airlock.provisioner", provisionerId);
    docker().listServicesCmd().withLabelFilter(owned).exec().stream()
        .forEach(service -> ignoreMissing(() -> docker().removeServiceCmd(service.getId()).exec()));
    removeContainers(owned);
    await(
        "no container of provisioner " + provisionerId + " left",
        Duration.ofSeconds(30),
        () -> containers(owned).isEmpty() && servicesOf(provisionerId).isEmpty());
    // Swarm mode's /tmp volumes, which outlive a service removed behind the provisioner's back.
    var volumes =
        docker()
            .listVolumesCmd()
            .withFilter("label", List.of("dev.airlock.provisioner=" + provisionerId))
            .exec()
            .getVolumes();
    if (volumes != null) {
      volumes.forEach(v -> ignoreMissing(() -> docker().removeVolumeCmd(v.getName()).exec()));
    }
  }

  /** Removes the helper containers and networks the tests made. */
  public static void removeTestHelpers() {
    removeContainers(Map.of(TEST_LABEL, "true"));
    for (Network network :
        docker().listNetworksCmd().withFilter("label", List.of(TEST_LABEL + "=true")).exec()) {
      ignoreMissing(() -> docker().removeNetworkCmd(network.getId()).exec());
    }
  }

  /** Removes a network if it exists (e.g. a strict network a test class made). */
  public static void removeNetwork(String name) {
    ignoreMissing(() -> docker().removeNetworkCmd(name).exec());
  }

  private static List<com.github.dockerjava.api.model.Service> servicesOf(String provisionerId) {
    return docker()
        .listServicesCmd()
        .withLabelFilter(Map.of("dev.airlock.provisioner", provisionerId))
        .exec();
  }

  private static void removeContainers(Map<String, String> labels) {
    for (Container container : containers(labels)) {
      ignoreMissing(
          () ->
              docker()
                  .removeContainerCmd(container.getId())
                  .withForce(true)
                  .withRemoveVolumes(true)
                  .exec());
    }
  }

  public static List<Container> containers(Map<String, String> labels) {
    return docker().listContainersCmd().withShowAll(true).withLabelFilter(labels).exec();
  }

  /** The result of a command run in a container. */
  public record ExecResult(int exitCode, String output) {}

  /** Runs a command in a running container (as its user) and waits for it. */
  public static ExecResult exec(String containerId, String... command) throws Exception {
    String execId =
        docker()
            .execCreateCmd(containerId)
            .withCmd(command)
            .withAttachStdout(true)
            .withAttachStderr(true)
            .exec()
            .getId();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    docker()
        .execStartCmd(execId)
        .exec(
            new ResultCallback.Adapter<Frame>() {
              @Override
              public void onNext(Frame frame) {
                output.writeBytes(frame.getPayload());
              }
            })
        .awaitCompletion(60, TimeUnit.SECONDS);
    Long exit = docker().inspectExecCmd(execId).exec().getExitCodeLong();
    return new ExecResult(
        exit == null ? -1 : exit.intValue(), output.toString(StandardCharsets.UTF_8));
  }

  /** Waits until a condition holds; fails with its description when it does not in time. */
  public static void await(String what, Duration limit, BooleanSupplier condition) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for: " + what).isLessThan(deadline);
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  private static void ignoreMissing(Runnable action) {
    try {
      action.run();
    } catch (NotFoundException e) {
      // Already gone.
    }
  }
}
