package dev.airlock.provisioner.container;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.provisioner.api.model.Problem;
import dev.airlock.provisioner.support.ProvisionerClient;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestPki;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Swarm mode with the default settings on an engine whose services cannot get no-new-privileges
 * (Docker before API 1.44, dockerd without {@code --no-new-privileges}): it refuses to create
 * rather than run a container with less isolation than its profile promises.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"airlock.provisioner.id=" + SwarmNoNewPrivilegesTest.ID})
class SwarmNoNewPrivilegesTest {

  static final String ID = "test-swarm-nnp";

  @LocalServerPort int port;

  @DynamicPropertySource
  static void engineAndCertificates(DynamicPropertyRegistry registry) {
    registry.add("airlock.provisioner.docker-host", TestEngine::host);
    registry.add("airlock.provisioner.tls.cert-file", () -> TestPki.get().serverCert());
    registry.add("airlock.provisioner.tls.key-file", () -> TestPki.get().serverKey());
    registry.add("airlock.provisioner.tls.ca-file", () -> TestPki.get().ca());
  }

  @BeforeAll
  @AfterAll
  static void clean() throws Exception {
    TestEngine.requireImages();
    TestEngine.removeOwnedBy(ID);
  }

  @Test
  void servicesWithoutNoNewPrivilegesAreNotCreated() {
    var info = TestEngine.docker().infoCmd().exec();
    boolean engineSetsIt =
        info.getSecurityOptions() != null
            && info.getSecurityOptions().contains("name=no-new-privileges");
    var response =
        ProvisionerClient.platform(port)
            .put()
            .uri("/containers/{key}", "t-nnp")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("image", TestEngine.PROBE_IMAGE, "profile", "standard"))
            .exchange();
    if (engineSetsIt) {
      response.expectStatus().isCreated();
      return;
    }
    Problem problem =
        response
            .expectStatus()
            .isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR)
            .expectBody(Problem.class)
            .returnResult()
            .getResponseBody();
    assertThat(problem.getType()).isEqualTo("urn:airlock:problem:internal");
    assertThat(problem.getDetail())
        .contains(
            "cannot set no-new-privileges",
            "--no-new-privileges",
            "swarm-without-no-new-privileges");
    assertThat(TestEngine.containers(Map.of("dev.airlock.provisioner", ID))).isEmpty();
    assertThat(
            TestEngine.docker()
                .listServicesCmd()
                .withNameFilter(java.util.List.of("airlock-t-nnp"))
                .exec())
        .isEmpty();
  }
}
