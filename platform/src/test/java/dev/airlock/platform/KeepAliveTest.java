package dev.airlock.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A client that reuses one HTTP/1.1 connection for request after request gets every answer. (With
 * reactor-netty 1.3.6 the platform stopped reading a reused connection after a few hundred
 * requests; each request here must be answered within seconds.)
 */
class KeepAliveTest extends PlatformTestBase {

  private static final int REQUESTS = 1_500;

  @Test
  void everyRequestOnAReusedConnectionIsAnswered() throws Exception {
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    URI health =
        URI.create(
            "http://127.0.0.1:" + environment.getProperty("local.server.port") + "/api/v1/health");
    URI me =
        URI.create(
            "http://127.0.0.1:" + environment.getProperty("local.server.port") + "/api/v1/auth/me");
    String token = adminToken();

    for (int i = 0; i < REQUESTS; i++) {
      HttpRequest request =
          i % 2 == 0
              ? HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(5)).build()
              : HttpRequest.newBuilder(me)
                  .header("Authorization", "Bearer " + token)
                  .timeout(Duration.ofSeconds(5))
                  .build();
      int status = client.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      assertThat(status).as("request %d", i).isEqualTo(200);
    }
  }
}
