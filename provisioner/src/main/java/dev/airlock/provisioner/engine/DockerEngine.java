package dev.airlock.provisioner.engine;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.LocalNodeState;
import com.github.dockerjava.api.model.SwarmInfo;
import com.github.dockerjava.api.model.Version;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.airlock.provisioner.ProvisionerProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The local Docker Engine, through docker-java on its Unix socket. docker-java blocks, so {@link
 * #call} runs every operation on this engine's own bounded scheduler, never on an event loop, and
 * gives up after a timeout; a socket that is missing, refuses or does not answer becomes an {@link
 * EngineUnavailableException}. Nothing here pulls an image.
 */
@Component
public class DockerEngine implements DisposableBean {

  /** At most this many engine operations run at once; more wait in the scheduler's queue. */
  private static final int MAX_PARALLEL_CALLS = 16;

  private static final int MAX_QUEUED_CALLS = 1024;

  private final String host;
  private final Duration timeout;
  private final DockerHttpClient http;
  private final DockerClient client;
  private final Scheduler scheduler;

  public DockerEngine(ProvisionerProperties properties) {
    this.host = properties.dockerHost();
    this.timeout = properties.engineTimeout();
    // Built from our settings alone: no DOCKER_* environment variable, ~/.docker config or
    // registry credentials of the user running the provisioner is read.
    DefaultDockerClientConfig config =
        new DefaultDockerClientConfig.Builder()
            .withDockerHost(host)
            .withDockerTlsVerify(false)
            .build();
    this.http =
        new ApacheDockerHttpClient.Builder()
            .dockerHost(URI.create(host))
            .maxConnections(MAX_PARALLEL_CALLS * 2)
            .connectionTimeout(properties.engineConnectTimeout())
            .responseTimeout(properties.engineTimeout())
            .build();
    this.client = DockerClientImpl.getInstance(config, http);
    this.scheduler =
        Schedulers.newBoundedElastic(
            MAX_PARALLEL_CALLS, MAX_QUEUED_CALLS, "docker-engine", 60, true);
  }

  /** The socket this engine is reached at, e.g. {@code unix:///var/run/docker.sock}. */
  public String host() {
    return host;
  }

  /** The docker-java client; only for code that {@link #call} runs. */
  public DockerClient client() {
    return client;
  }

  /**
   * The raw HTTP client under {@link #client()}, for the few engine requests docker-java has no
   * command for; only for code that {@link #call} runs.
   */
  public DockerHttpClient http() {
    return http;
  }

  /**
   * Runs a blocking engine operation off the event loop, within the engine timeout. A {@code null}
   * result completes empty.
   *
   * @param what names the operation in error messages, e.g. {@code "create airlock-x"}
   */
  public <T> Mono<T> call(String what, Callable<T> operation) {
    return call(what, timeout, operation);
  }

  /**
   * As {@link #call(String, Callable)}, with its own timeout. When the timeout passes, the caller
   * gets an {@link EngineUnavailableException} and the operation is left to finish on its own
   * (bounded by the HTTP client's response timeout), not interrupted: an interrupted socket helps
   * nobody, and a create that still succeeds is found again by the caller's retry.
   */
  public <T> Mono<T> call(String what, Duration limit, Callable<T> operation) {
    return Mono.fromFuture(
            () -> CompletableFuture.supplyAsync(() -> run(operation), scheduler::schedule), true)
        .timeout(
            limit,
            Mono.error(
                () ->
                    new EngineUnavailableException(
                        what + ": the Docker Engine at " + host + " did not answer within " + limit,
                        null)))
        .onErrorMap(
            RejectedExecutionException.class,
            e ->
                new EngineUnavailableException(
                    what + ": " + MAX_QUEUED_CALLS + " engine operations are waiting already", e))
        .onErrorMap(
            DockerEngine::unreachable,
            e ->
                new EngineUnavailableException(
                    what
                        + ": the Docker Engine at "
                        + host
                        + " does not answer ("
                        + rootCause(e)
                        + ")",
                    e));
  }

  private static <T> T run(Callable<T> operation) {
    try {
      return operation.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new CompletionException(e);
    }
  }

  /** What the engine says about itself, read now. */
  public Mono<EngineFacts> facts() {
    return call("docker info", () -> toFacts(client.infoCmd().exec(), client.versionCmd().exec()));
  }

  private static EngineFacts toFacts(Info info, Version version) {
    SwarmInfo swarm = info.getSwarm();
    boolean manager =
        swarm != null
            && swarm.getLocalNodeState() == LocalNodeState.ACTIVE
            && Boolean.TRUE.equals(swarm.getControlAvailable());
    Map<String, ?> runtimes = info.getRuntimes() == null ? Map.of() : info.getRuntimes();
    List<String> security =
        info.getSecurityOptions() == null ? List.of() : info.getSecurityOptions();
    return new EngineFacts(
        String.valueOf(info.getServerVersion()),
        String.valueOf(version.getApiVersion()),
        manager,
        swarm == null || swarm.getNodeID() == null ? "" : swarm.getNodeID(),
        runtimes.keySet().stream().sorted().toList(),
        defaultRuntime(info),
        security.stream().anyMatch(o -> o.equals("name=no-new-privileges")),
        info.getMemTotal() == null ? 0 : info.getMemTotal(),
        info.getNCPU() == null ? 0 : info.getNCPU());
  }

  private static String defaultRuntime(Info info) {
    // docker-java's Info has no DefaultRuntime; runc is the engine's own default.
    Object value = info.getRawValues() == null ? null : info.getRawValues().get("DefaultRuntime");
    return value instanceof String name && !name.isEmpty() ? name : "runc";
  }

  /**
   * Whether a failure means the engine could not be reached (as opposed to the engine answering
   * with an error, which is a {@link DockerException}).
   */
  static boolean unreachable(Throwable error) {
    if (error instanceof EngineUnavailableException) {
      return false;
    }
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof DockerException) {
        return false;
      }
      if (t instanceof IOException || t instanceof UncheckedIOException) {
        return true;
      }
    }
    return false;
  }

  private static String rootCause(Throwable error) {
    Throwable root = error;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage();
    return root.getClass().getSimpleName() + (message == null ? "" : ": " + message);
  }

  @Override
  public void destroy() throws IOException {
    scheduler.dispose();
    client.close();
  }
}
