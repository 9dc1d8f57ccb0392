package dev.airlock.provisioner.support;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLException;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.netty.http.client.HttpClient;

/** Clients of a provisioner under test, over HTTPS with (or without) a client certificate. */
public final class ProvisionerClient {

  private ProvisionerClient() {}

  /** A client presenting the platform's certificate, as the platform does. */
  public static WebTestClient platform(int port) {
    TestPki pki = TestPki.get();
    return WebTestClient.bindToServer(
            new ReactorClientHttpConnector(http(pki.clientCert(), pki.clientKey())))
        .baseUrl("https://localhost:" + port + "/provisioner/v1")
        .responseTimeout(Duration.ofSeconds(60))
        .build();
  }

  /**
   * A reactor-netty client that trusts the deployment's CA and presents the given certificate (none
   * when {@code cert} is null).
   */
  public static HttpClient http(Path cert, Path key) {
    TestPki pki = TestPki.get();
    SslContext ssl;
    try {
      SslContextBuilder builder = SslContextBuilder.forClient().trustManager(pki.ca().toFile());
      if (cert != null) {
        builder.keyManager(cert.toFile(), key.toFile());
      }
      ssl = builder.build();
    } catch (SSLException e) {
      throw new IllegalStateException(e);
    }
    return HttpClient.create()
        .secure(spec -> spec.sslContext(ssl))
        .responseTimeout(Duration.ofSeconds(60));
  }
}
