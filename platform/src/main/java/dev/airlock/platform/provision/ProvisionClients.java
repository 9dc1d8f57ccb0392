package dev.airlock.platform.provision;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.provision.api.CapacityApi;
import dev.airlock.platform.provision.api.ContainersApi;
import dev.airlock.platform.provision.api.invoker.ApiClient;
import io.netty.channel.ChannelOption;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@link ProvisionClient} of each registered provisioner, over one mutual-TLS connection pool
 * (the platform's client certificate; provisioners' certificates checked against the configured
 * CA), and placement: which provisioners may take a container now.
 */
@Component
public class ProvisionClients {

  private final AirlockProperties.Provisioning settings;
  private final ProvisionerRepository provisioners;
  private final ConcurrentMap<UUID, ProvisionClient> clients = new ConcurrentHashMap<>();
  private final WebClient webClient;
  private final JsonMapper mapper;
  private final String tlsProblem;

  public ProvisionClients(AirlockProperties properties, ProvisionerRepository provisioners) {
    this.settings = properties.provisioning();
    this.provisioners = provisioners;
    this.mapper = ApiClient.createDefaultMapper(null);
    SslContext ssl = null;
    String problem = null;
    if (settings.certFile().isEmpty()
        || settings.keyFile().isEmpty()
        || settings.caFile().isEmpty()) {
      problem =
          "the platform has no provisioning client certificate (set airlock.provisioning.cert-file,"
              + " key-file and ca-file; see docs/provisioner.md)";
    } else {
      ssl = sslContext(settings);
    }
    this.tlsProblem = problem;
    HttpClient http =
        HttpClient.create(
                ConnectionProvider.builder("provisioners")
                    .maxConnections(256)
                    .maxIdleTime(Duration.ofSeconds(30))
                    .build())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2_000);
    if (ssl != null) {
      SslContext context = ssl;
      http = http.secure(spec -> spec.sslContext(context));
    }
    this.webClient =
        ApiClient.buildWebClientBuilder(mapper)
            .clientConnector(new ReactorClientHttpConnector(http))
            .build();
  }

  private static SslContext sslContext(AirlockProperties.Provisioning settings) {
    for (String file : List.of(settings.certFile(), settings.keyFile(), settings.caFile())) {
      if (!new File(file).canRead()) {
        throw new IllegalStateException(
            "airlock.provisioning: cannot read "
                + file
                + " (expected: PEM files made with deploy/pki.sh)");
      }
    }
    try {
      return SslContextBuilder.forClient()
          .keyManager(new File(settings.certFile()), new File(settings.keyFile()))
          .trustManager(new File(settings.caFile()))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException("airlock.provisioning: " + e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(
          "airlock.provisioning: the certificate or key is not valid PEM: " + e.getMessage(), e);
    }
  }

  /** The client of {@code provisioner}, made on first use. */
  public ProvisionClient client(ProvisionerRow provisioner) {
    return clients.compute(
        provisioner.id(),
        (id, existing) ->
            existing != null && existing.provisioner().url().equals(provisioner.url())
                ? existing
                : create(provisioner));
  }

  /** Forgets a removed provisioner. */
  public void remove(UUID id) {
    clients.remove(id);
  }

  private ProvisionClient create(ProvisionerRow provisioner) {
    ApiClient api = new ApiClient(webClient, mapper, ApiClient.createDefaultDateFormat());
    api.setBasePath(provisioner.url().replaceAll("/+$", ""));
    return new ProvisionClient(provisioner, new ContainersApi(api), new CapacityApi(api), settings);
  }

  /** Why no call can be made at all (no client certificate configured), or null. */
  public String configurationProblem() {
    return tlsProblem;
  }

  /**
   * The provisioners that may take one more container now, the least loaded first: circuit not open
   * and fewer live containers than their maximum.
   */
  public Mono<Placement> placement() {
    return provisioners
        .all()
        .collectList()
        .zipWhen(all -> provisioners.running())
        .map(
            found -> {
              List<ProvisionerRow> all = found.getT1();
              Map<UUID, Integer> running = found.getT2();
              List<ProvisionClient> open =
                  all.stream()
                      .map(this::client)
                      .filter(ProvisionClient::available)
                      .filter(
                          c -> running.getOrDefault(c.id(), 0) < c.provisioner().maxContainers())
                      .sorted(
                          Comparator.comparingDouble(
                              c ->
                                  running.getOrDefault(c.id(), 0)
                                      / (double) c.provisioner().maxContainers()))
                      .toList();
              return new Placement(open, all.size(), retryAfter(all));
            });
  }

  private Duration retryAfter(List<ProvisionerRow> all) {
    return all.isEmpty() ? Duration.ofSeconds(30) : settings.openDuration();
  }

  /**
   * Where a container may go.
   *
   * @param candidates provisioners to try, in order
   * @param registered how many are registered at all
   * @param retryAfter when to try again if there is no candidate
   */
  public record Placement(List<ProvisionClient> candidates, int registered, Duration retryAfter) {}
}
