package dev.airlock.contract.harness;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.ResponseEntity;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The proxy itself, in front of a stub upstream instead of the platform: it must pass traffic
 * through unchanged, stay quiet about responses that keep the contract, and record those that break
 * it. Without this, a silent proxy would look like a platform with no violations.
 */
class ValidatingProxyTest {

  private record Canned(int status, String contentType, String body) {}

  private static final String HEALTHY =
      "{\"status\":\"UP\",\"database\":\"UP\",\"version\":\"0.1.0\"}";
  private static final String NOT_FOUND =
      "{\"type\":\"urn:airlock:problem:route-not-found\",\"title\":\"Not Found\",\"status\":404}";

  private final Map<String, Canned> canned = new ConcurrentHashMap<>();
  private final Map<String, String> lastRequest = new ConcurrentHashMap<>();
  private DisposableServer upstream;
  private ValidatingProxy proxy;
  private WebClient client;

  @BeforeEach
  void start() {
    upstream =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (request, response) ->
                    request
                        .receive()
                        .aggregate()
                        .asString(StandardCharsets.UTF_8)
                        .defaultIfEmpty("")
                        .flatMap(
                            body -> {
                              lastRequest.put("uri", request.uri());
                              lastRequest.put("body", body);
                              lastRequest.put(
                                  "authorization",
                                  String.valueOf(request.requestHeaders().get("Authorization")));
                              Canned reply =
                                  canned.get(request.method().name() + " " + request.fullPath());
                              response.status(HttpResponseStatus.valueOf(reply.status()));
                              if (reply.contentType() != null) {
                                response.header("Content-Type", reply.contentType());
                              }
                              return response.sendString(Mono.just(reply.body())).then();
                            }))
            .bindNow(Duration.ofSeconds(10));
    proxy = ValidatingProxy.start(spec(), URI.create("http://127.0.0.1:" + upstream.port()));
    client = WebClient.create(proxy.baseUrl());
  }

  @AfterEach
  void stop() {
    proxy.close();
    upstream.disposeNow(Duration.ofSeconds(5));
  }

  private ResponseEntity<String> exchange(String method, String uri, String body) {
    WebClient.RequestBodySpec request =
        client
            .method(org.springframework.http.HttpMethod.valueOf(method))
            .uri(uri)
            .header("Authorization", "Bearer token-1")
            .header("Content-Type", "application/json");
    return (body == null ? request : request.bodyValue(body))
        .exchangeToMono(response -> response.toEntity(String.class))
        .block(Duration.ofSeconds(10));
  }

  @Test
  void passesTrafficThroughUnchangedAndAcceptsResponsesThatKeepTheContract() {
    canned.put("GET /api/v1/health", new Canned(200, "application/json", HEALTHY));
    canned.put(
        "POST /api/v1/auth/login",
        new Canned(
            400,
            "application/problem+json",
            "{\"type\":\"urn:airlock:problem:malformed-request\",\"title\":\"Malformed\",\"status\":400}"));
    canned.put("GET /api/v1/nowhere", new Canned(404, "application/problem+json", NOT_FOUND));

    ResponseEntity<String> health = exchange("GET", "/api/v1/health?x=1", null);
    ResponseEntity<String> badLogin = exchange("POST", "/api/v1/auth/login", "{\"broken\": ");
    ResponseEntity<String> nowhere = exchange("GET", "/api/v1/nowhere", null);

    assertThat(health.getStatusCode().value()).isEqualTo(200);
    assertThat(health.getBody()).isEqualTo(HEALTHY);
    assertThat(badLogin.getStatusCode().value()).isEqualTo(400);
    assertThat(lastRequest)
        .containsEntry("body", "")
        .containsEntry("authorization", "Bearer token-1");
    assertThat(nowhere.getStatusCode().value()).isEqualTo(404);
    assertThat(proxy.exchanges()).isEqualTo(3);
    assertThat(proxy.drainViolations()).isEmpty();
  }

  @Test
  void forwardsTheRequestBodyAndQuery() {
    canned.put(
        "POST /api/v1/auth/login",
        new Canned(
            401,
            "application/problem+json",
            "{\"type\":\"urn:airlock:problem:invalid-credentials\",\"title\":\"No\",\"status\":401}"));

    exchange("POST", "/api/v1/auth/login?trace=1", "{\"username\":\"a\",\"password\":\"b\"}");

    assertThat(lastRequest)
        .containsEntry("uri", "/api/v1/auth/login?trace=1")
        .containsEntry("body", "{\"username\":\"a\",\"password\":\"b\"}");
    assertThat(proxy.drainViolations()).isEmpty();
  }

  @Test
  void recordsEveryKindOfBreach() {
    canned.put("GET /api/v1/health", new Canned(200, "application/json", "{\"status\":\"MAYBE\"}"));
    canned.put(
        "GET /api/v1/users",
        new Canned(
            500,
            "text/plain",
            "java.lang.NullPointerException\n\tat dev.airlock.platform.Users.list(Users.java:42)"));
    canned.put("GET /api/v1/undocumented", new Canned(200, "application/json", "{}"));
    canned.put(
        "GET /api/v1/auth/me",
        new Canned(
            401,
            "application/problem+json",
            "{\"type\":\"urn:airlock:problem:unauthenticated\",\"title\":\"No\",\"status\":403}"));
    canned.put("GET /api/v1/elsewhere", new Canned(404, "text/html", "<h1>Not Found</h1>"));

    exchange("GET", "/api/v1/health", null);
    exchange("GET", "/api/v1/users", null);
    exchange("GET", "/api/v1/undocumented", null);
    exchange("GET", "/api/v1/auth/me", null);
    exchange("GET", "/api/v1/elsewhere", null);

    List<ValidatingProxy.Violation> violations = proxy.drainViolations();
    assertThat(violations)
        .extracting(v -> v.method() + " " + v.uri())
        .containsExactly(
            "GET /api/v1/health",
            "GET /api/v1/users",
            "GET /api/v1/undocumented",
            "GET /api/v1/auth/me",
            "GET /api/v1/elsewhere");
    assertThat(violations.get(0).describe()).contains("MAYBE");
    assertThat(violations.get(1).messages())
        .anySatisfy(m -> assertThat(m).contains("status.unknown"))
        .anySatisfy(m -> assertThat(m).contains("stack trace"));
    assertThat(violations.get(2).messages())
        .singleElement()
        .asString()
        .contains("no such operation");
    assertThat(violations.get(3).messages())
        .anySatisfy(m -> assertThat(m).contains("differs from the HTTP status"));
    assertThat(violations.get(4).messages())
        .anySatisfy(m -> assertThat(m).contains("application/problem+json"));
    assertThat(proxy.drainViolations()).as("after draining").isEmpty();
  }

  private static Path spec() {
    String configured = System.getProperty("airlock.spec");
    if (configured != null) {
      return Path.of(configured);
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("openapi/airlock.yaml"))) {
        return dir.resolve("openapi/airlock.yaml");
      }
    }
    throw new IllegalStateException(
        "openapi/airlock.yaml not found above " + Path.of("").toAbsolutePath());
  }
}
