package dev.airlock.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * One running platform (a real server on a random port, on a fresh database of the real test
 * server) shared by every test class that extends this, and an administrator's access token.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
public abstract class PlatformTestBase {

  static final String DATABASE_URL = TestDatabase.freshUrl();
  static final Path DATA_DIR = tempDir();
  static final String ADMIN_PASSWORD = "the admin's own password";
  private static String adminToken;

  @Autowired protected Environment environment;
  protected WebTestClient http;

  @DynamicPropertySource
  static void platformProperties(DynamicPropertyRegistry registry) {
    registry.add("airlock.database.url", () -> DATABASE_URL);
    registry.add("airlock.data-dir", DATA_DIR::toString);
  }

  @BeforeEach
  void connect() {
    http =
        WebTestClient.bindToServer()
            .baseUrl("http://127.0.0.1:" + environment.getProperty("local.server.port"))
            .responseTimeout(Duration.ofSeconds(30))
            .build();
  }

  /** An access token of the first administrator, after the one-time password was changed. */
  protected synchronized String adminToken() throws Exception {
    if (adminToken == null) {
      Path file = DATA_DIR.resolve("initial-admin-password");
      Instant deadline = Instant.now().plusSeconds(20);
      while (!Files.exists(file) && Instant.now().isBefore(deadline)) {
        Thread.sleep(100);
      }
      String oneTime = Files.readString(file).trim();
      String first = login("admin", oneTime);
      http.put()
          .uri("/api/v1/auth/password")
          .headers(h -> h.setBearerAuth(first))
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue(Map.of("currentPassword", oneTime, "newPassword", ADMIN_PASSWORD))
          .exchange()
          .expectStatus()
          .isNoContent();
      assertThat(file).doesNotExist();
      adminToken = login("admin", ADMIN_PASSWORD);
    }
    return adminToken;
  }

  /** GETs {@code path} with {@code token}, expects 200 and returns the JSON body as a map. */
  @SuppressWarnings("unchecked")
  protected Map<String, Object> getJson(String path, String token) {
    return http.get()
        .uri(path)
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody();
  }

  /** Logs in and returns the access token. */
  protected String login(String username, String password) {
    @SuppressWarnings("unchecked")
    Map<String, Object> tokens =
        http.post()
            .uri("/api/v1/auth/login")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("username", username, "password", password))
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    return (String) tokens.get("accessToken");
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("airlock-platform-test");
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
