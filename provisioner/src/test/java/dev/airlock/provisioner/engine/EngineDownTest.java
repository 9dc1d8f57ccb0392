package dev.airlock.provisioner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.provisioner.api.model.Problem;
import dev.airlock.provisioner.support.ProvisionerClient;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestPki;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * A provisioner whose engine socket does not exist: it starts anyway, and answers every operation
 * at once with {@code 503 engine-unavailable}, never a stack trace.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "airlock.provisioner.id=test-engine-down",
      "airlock.provisioner.docker-host=unix:///run/airlock-test-docker/no-such-engine.sock"
    })
class EngineDownTest {

  @LocalServerPort int port;

  @DynamicPropertySource
  static void certificates(DynamicPropertyRegistry registry) {
    TestEngine.host();
    registry.add("airlock.provisioner.tls.cert-file", () -> TestPki.get().serverCert());
    registry.add("airlock.provisioner.tls.key-file", () -> TestPki.get().serverKey());
    registry.add("airlock.provisioner.tls.ca-file", () -> TestPki.get().ca());
  }

  @Test
  void everyOperationAnswers503Fast() {
    WebTestClient client = ProvisionerClient.platform(port);
    // Untimed: the first request also pays for the client's TLS set-up and the JIT.
    client
        .get()
        .uri("/capacity")
        .exchange()
        .expectStatus()
        .isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertUnavailable(client.get().uri("/capacity"));
    assertUnavailable(client.get().uri("/containers"));
    assertUnavailable(client.get().uri("/containers/{key}", "k1"));
    assertUnavailable(client.delete().uri("/containers/{key}", "k1"));
    assertUnavailable(
        client
            .put()
            .uri("/containers/{key}", "k1")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("image", "airlock/test-probe:dev", "profile", "standard")));
  }

  private static void assertUnavailable(WebTestClient.RequestHeadersSpec<?> request) {
    long started = System.nanoTime();
    Problem problem =
        request
            .exchange()
            .expectStatus()
            .isEqualTo(HttpStatus.SERVICE_UNAVAILABLE)
            .expectHeader()
            .contentType(MediaType.APPLICATION_PROBLEM_JSON)
            .expectHeader()
            .exists("Retry-After")
            .expectBody(Problem.class)
            .returnResult()
            .getResponseBody();
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
    assertThat(problem.getType()).isEqualTo("urn:airlock:problem:engine-unavailable");
    assertThat(problem.getStatus()).isEqualTo(503);
    assertThat(problem.getDetail()).contains("no-such-engine.sock").doesNotContain("\tat ");
  }
}
