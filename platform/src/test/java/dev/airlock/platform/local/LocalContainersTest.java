package dev.airlock.platform.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.platform.AirlockPlatformApplication;
import dev.airlock.platform.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The platform as {@code ./airlock start} runs it next to a local provisioner, started twice on one
 * database of the real test server: the first start registers provisioner {@code local} and image
 * {@code chromium} (as the system, audited); an administrator then changes both; the second start
 * keeps their changes and adds nothing. Without {@code airlock.local.provisioner-url} nothing is
 * registered.
 */
class LocalContainersTest {

  private static final String PROVISIONER_URL = "https://127.0.0.1:18443";
  private static final String PASSWORD = "the admin's own password";

  @TempDir Path dataDir;

  @Test
  void registersTheLocalProvisionerAndImageOnceAndKeepsAnAdministratorsChanges() throws Exception {
    String database = TestDatabase.freshUrl();
    try (ConfigurableApplicationContext first = start(database, PROVISIONER_URL + "/")) {
      LocalContainers.Outcome outcome =
          first.getBean(LocalContainers.class).startup().block(Duration.ofSeconds(30));
      assertThat(outcome).isNotNull();
      assertThat(outcome.provisionerCreated()).isTrue();
      assertThat(outcome.imageCreated()).isTrue();

      WebTestClient http = client(first);
      String token = adminToken(http, true);
      List<Map<String, Object>> provisioners = list(http, token, "/api/v1/provisioners");
      assertThat(provisioners).hasSize(1);
      assertThat(provisioners.get(0))
          .containsEntry("name", "local")
          .containsEntry("url", PROVISIONER_URL)
          .containsEntry("maxContainers", 20);
      Map<String, Object> image = get(http, token, "/api/v1/images/chromium");
      assertThat(image)
          .containsEntry("reference", "airlock/rbi-chromium:dev")
          .containsEntry("isolation", "standard")
          .containsEntry("clipboard", "both")
          .containsEntry("warmPool", 0)
          .containsEntry(
              "environment",
              List.of(
                  Map.of("name", "START_URL", "value", "https://start.example", "editable", true)));
      assertThat(systemEvents(http, token, "provisioner.create")).hasSize(1);
      assertThat(systemEvents(http, token, "image.create")).hasSize(1);

      // An administrator makes both their own.
      Map<String, Object> changed = new java.util.HashMap<>(image);
      changed.keySet().retainAll(List.of("name", "reference", "isolation", "clipboard"));
      changed.put("description", "the team's browser");
      changed.put("clipboard", "read");
      changed.put(
          "environment",
          List.of(
              Map.of("name", "START_URL", "value", "https://intranet.example", "editable", false)));
      http.put()
          .uri("/api/v1/images/chromium")
          .headers(h -> h.setBearerAuth(token))
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue(changed)
          .exchange()
          .expectStatus()
          .isOk();
      http.delete()
          .uri("/api/v1/provisioners/local")
          .headers(h -> h.setBearerAuth(token))
          .exchange()
          .expectStatus()
          .isNoContent();
      http.post()
          .uri("/api/v1/provisioners")
          .headers(h -> h.setBearerAuth(token))
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue(
              Map.of("name", "local", "url", "https://docker-1.internal:8443", "maxContainers", 3))
          .exchange()
          .expectStatus()
          .isCreated();
    }

    try (ConfigurableApplicationContext second = start(database, PROVISIONER_URL)) {
      LocalContainers.Outcome outcome =
          second.getBean(LocalContainers.class).startup().block(Duration.ofSeconds(30));
      assertThat(outcome).isNotNull();
      assertThat(outcome.provisionerCreated()).isFalse();
      assertThat(outcome.imageCreated()).isFalse();
      assertThat(outcome.provisionerUrl()).isEqualTo("https://docker-1.internal:8443");
      assertThat(second.getBean(LocalContainers.class).text(outcome))
          .contains("was registered with https://docker-1.internal:8443, not this start's");

      WebTestClient http = client(second);
      String token = adminToken(http, false);
      List<Map<String, Object>> provisioners = list(http, token, "/api/v1/provisioners");
      assertThat(provisioners).hasSize(1);
      assertThat(provisioners.get(0))
          .containsEntry("url", "https://docker-1.internal:8443")
          .containsEntry("maxContainers", 3);
      Map<String, Object> images = get(http, token, "/api/v1/images");
      assertThat((List<?>) images.get("items")).hasSize(1);
      Map<String, Object> image = get(http, token, "/api/v1/images/chromium");
      assertThat(image)
          .containsEntry("description", "the team's browser")
          .containsEntry("clipboard", "read")
          .containsEntry(
              "environment",
              List.of(
                  Map.of(
                      "name",
                      "START_URL",
                      "value",
                      "https://intranet.example",
                      "editable",
                      false)));
      assertThat(systemEvents(http, token, "provisioner.create"))
          .as("the system registered it once; the administrator's re-creation is theirs")
          .hasSize(1);
      assertThat(systemEvents(http, token, "image.create")).hasSize(1);
    }
  }

  @Test
  void registersNothingUnlessAskedTo() throws Exception {
    try (ConfigurableApplicationContext platform = start(TestDatabase.freshUrl(), "")) {
      assertThat(
              platform
                  .getBean(LocalContainers.class)
                  .startup()
                  .blockOptional(Duration.ofSeconds(30)))
          .isEmpty();
      WebTestClient http = client(platform);
      String token = adminToken(http, true);
      assertThat(list(http, token, "/api/v1/provisioners")).isEmpty();
      assertThat((List<?>) get(http, token, "/api/v1/images").get("items")).isEmpty();
    }
  }

  private ConfigurableApplicationContext start(String database, String provisionerUrl) {
    return new SpringApplicationBuilder(AirlockPlatformApplication.class)
        .run(
            "--server.port=0",
            "--airlock.database.url=" + database,
            "--airlock.data-dir=" + dataDir,
            "--airlock.local.provisioner-url=" + provisionerUrl,
            "--airlock.local.start-url=https://start.example");
  }

  private static WebTestClient client(ConfigurableApplicationContext platform) {
    return WebTestClient.bindToServer()
        .baseUrl("http://127.0.0.1:" + platform.getEnvironment().getProperty("local.server.port"))
        .responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  /** The administrator's token; at the first start, after replacing the one-time password. */
  private String adminToken(WebTestClient http, boolean firstStart) throws Exception {
    if (!firstStart) {
      return login(http, PASSWORD);
    }
    Path file = dataDir.resolve("initial-admin-password");
    Instant deadline = Instant.now().plusSeconds(20);
    while (!Files.exists(file) && Instant.now().isBefore(deadline)) {
      Thread.sleep(100);
    }
    String oneTime = Files.readString(file).trim();
    String first = login(http, oneTime);
    http.put()
        .uri("/api/v1/auth/password")
        .headers(h -> h.setBearerAuth(first))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("currentPassword", oneTime, "newPassword", PASSWORD))
        .exchange()
        .expectStatus()
        .isNoContent();
    return login(http, PASSWORD);
  }

  private static String login(WebTestClient http, String password) {
    return (String)
        http.post()
            .uri("/api/v1/auth/login")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(Map.of("username", "admin", "password", password))
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {})
            .returnResult()
            .getResponseBody()
            .get("accessToken");
  }

  private static Map<String, Object> get(WebTestClient http, String token, String uri) {
    return http.get()
        .uri(uri)
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(new ParameterizedTypeReference<Map<String, Object>>() {})
        .returnResult()
        .getResponseBody();
  }

  private static List<Map<String, Object>> list(WebTestClient http, String token, String uri) {
    return http.get()
        .uri(uri)
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(new ParameterizedTypeReference<List<Map<String, Object>>>() {})
        .returnResult()
        .getResponseBody();
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> systemEvents(
      WebTestClient http, String token, String action) {
    List<Map<String, Object>> events =
        (List<Map<String, Object>>)
            get(http, token, "/api/v1/audit/events?actor=system&action=" + action + "&limit=100")
                .get("items");
    return events;
  }
}
