package dev.airlock.contract.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Docker Engine that {@code deploy/test-deps.sh} starts for the tests (its own socket, a Swarm
 * manager), read and changed through the {@code docker} command as an operator would.
 */
public final class DockerEngine {

  private final String host;

  private DockerEngine(String host) {
    this.host = host;
  }

  /** The test engine; fails with what to do when it is not running. */
  public static DockerEngine require() {
    String host = System.getenv("AIRLOCK_TEST_DOCKER_HOST");
    if (host == null || host.isBlank()) {
      throw new IllegalStateException(
          "The container tests need the Docker Engine that deploy/test-deps.sh starts (as root):"
              + " run them with ./airlock test, or eval \"$(deploy/test-deps.sh up)\" first");
    }
    return new DockerEngine(host);
  }

  /** {@code unix:///…} of the engine's socket. */
  public String host() {
    return host;
  }

  /** Builds the images the tests run (cached: quick when they are up to date). */
  public void buildImages(Path repo) throws IOException, InterruptedException {
    run(
        List.of(
            repo.resolve("deploy/images/build.sh").toString(),
            "--docker-host",
            host,
            "--agent-jar",
            repo.resolve("agent/target/airlock-agent.jar").toString()),
        600);
  }

  /** Names of the containers (any state) and Swarm services carrying {@code label}. */
  public List<String> withLabel(String label) throws IOException, InterruptedException {
    List<String> names = new ArrayList<>();
    names.addAll(lines(docker("ps", "-a", "--filter", "label=" + label, "--format", "{{.Names}}")));
    names.addAll(
        lines(docker("service", "ls", "--filter", "label=" + label, "--format", "{{.Name}}")));
    // A Swarm task's container is named after its service: count each workload once.
    return names.stream().map(n -> n.replaceFirst("\\.\\d+\\..*$", "")).distinct().toList();
  }

  /** Removes, behind the platform's back, the container or service named {@code name}. */
  public void removeBehindTheBack(String name) throws IOException, InterruptedException {
    docker("service", "rm", name);
    docker("rm", "-f", name);
  }

  /** Runs {@code docker ARGS} against the test engine; returns its output, whatever its exit. */
  public String docker(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("docker", "-H", host));
    command.addAll(Arrays.asList(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    process.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  private static List<String> lines(String text) {
    return text.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.contains(" ")).toList();
  }

  static String run(List<String> command, int timeoutSeconds)
      throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command) + " did not finish:\n" + out);
    }
    if (process.exitValue() != 0) {
      throw new IllegalStateException(
          String.join(" ", command) + " exited " + process.exitValue() + ":\n" + out);
    }
    return out;
  }
}
