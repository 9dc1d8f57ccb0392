package dev.airlock.platform;

import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

/** Errors are problem documents whatever the client accepts; success bodies are JSON. */
class ContentNegotiationTest extends PlatformTestBase {

  @Test
  void aClientAcceptingOnlyJsonGetsProblemsNot406() throws Exception {
    String admin = adminToken();
    http.put()
        .uri("/api/v1/auth/password")
        .headers(h -> h.setBearerAuth(admin))
        .accept(MediaType.APPLICATION_JSON)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("currentPassword", "not it", "newPassword", "a new long password"))
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectHeader()
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:validation");

    http.delete()
        .uri("/api/v1/api-keys/" + UUID.randomUUID())
        .headers(h -> h.setBearerAuth(admin))
        .accept(MediaType.APPLICATION_JSON)
        .exchange()
        .expectStatus()
        .isNotFound()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:not-found");
  }

  @Test
  void healthIsUpOnlyOnceTheFirstAdministratorCanLogIn() throws Exception {
    adminToken();
    http.get()
        .uri("/api/v1/health")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo("UP");
  }
}
