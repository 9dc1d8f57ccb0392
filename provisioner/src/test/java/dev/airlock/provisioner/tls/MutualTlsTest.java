package dev.airlock.provisioner.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.provisioner.AirlockProvisionerApplication;
import dev.airlock.provisioner.support.ProvisionerClient;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLException;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.PrematureCloseException;

/**
 * Mutual TLS is the only way in: without a certificate, or with one from another CA (even with the
 * same subject), the TLS handshake fails and no HTTP request is ever served; plain HTTP gets no
 * answer; the platform's certificate works.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"airlock.provisioner.id=test-mtls", "airlock.provisioner.mode=plain"})
class MutualTlsTest {

  @LocalServerPort int port;

  @DynamicPropertySource
  static void engineAndCertificates(DynamicPropertyRegistry registry) {
    registry.add("airlock.provisioner.docker-host", TestEngine::host);
    registry.add("airlock.provisioner.tls.cert-file", () -> TestPki.get().serverCert());
    registry.add("airlock.provisioner.tls.key-file", () -> TestPki.get().serverKey());
    registry.add("airlock.provisioner.tls.ca-file", () -> TestPki.get().ca());
  }

  @Test
  void thePlatformsCertificateIsAccepted() {
    ProvisionerClient.platform(port).get().uri("/capacity").exchange().expectStatus().isOk();
  }

  @Test
  void aClientWithoutACertificateIsRefusedAtTheHandshake() {
    assertRefused(ProvisionerClient.http(null, null));
  }

  @Test
  void aCertificateFromAForgedCaWithTheSameSubjectIsRefused() {
    TestPki pki = TestPki.get();
    assertRefused(ProvisionerClient.http(pki.forgedCert(), pki.forgedKey()));
  }

  @Test
  void plainHttpGetsNoAnswer() {
    assertThatThrownBy(
            () ->
                HttpClient.create()
                    .responseTimeout(Duration.ofSeconds(5))
                    .get()
                    .uri("http://localhost:" + port + "/provisioner/v1/capacity")
                    .responseSingle((response, body) -> body.asString())
                    .block(Duration.ofSeconds(10)))
        .hasRootCauseInstanceOf(PrematureCloseException.class);
  }

  @Test
  void aMissingCertificateFileStopsTheStartWithItsName() {
    Path missing = Path.of("/nonexistent/provisioner.pem");
    assertThatThrownBy(
            () ->
                new SpringApplicationBuilder(AirlockProvisionerApplication.class)
                    .properties(
                        "server.port=0",
                        "airlock.provisioner.docker-host=unix:///nonexistent.sock",
                        "airlock.provisioner.tls.cert-file=" + missing,
                        "airlock.provisioner.tls.key-file=" + TestPki.get().serverKey(),
                        "airlock.provisioner.tls.ca-file=" + TestPki.get().ca())
                    .run()
                    .close())
        .rootCause()
        .hasMessageContaining("airlock.provisioner.tls.cert-file: " + missing + " does not exist")
        .hasMessageContaining("deploy/pki.sh");
  }

  private void assertRefused(HttpClient client) {
    assertThatThrownBy(
            () ->
                client
                    .get()
                    .uri("https://localhost:" + port + "/provisioner/v1/capacity")
                    .responseSingle((response, body) -> body.asString())
                    .block(Duration.ofSeconds(10)))
        .satisfies(
            error -> {
              boolean tls = false;
              for (Throwable t = error; t != null; t = t.getCause()) {
                tls |= t instanceof SSLException || t instanceof PrematureCloseException;
              }
              assertThat(tls).as("refused by TLS, not answered: " + error).isTrue();
            });
  }
}
