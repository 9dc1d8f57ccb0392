package dev.airlock.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.sdk.StubPlatform.Reply;
import dev.airlock.sdk.model.Me;
import dev.airlock.sdk.model.TokenPair;
import dev.airlock.sdk.model.UserUpdate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class AirlockClientTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final String LOGIN = "/api/v1/auth/login";
  private static final String REFRESH = "/api/v1/auth/refresh";
  private static final String ME = "/api/v1/auth/me";

  private final StubPlatform platform = new StubPlatform();
  private final MutableClock clock = new MutableClock();
  private final AtomicInteger issued = new AtomicInteger();

  @AfterEach
  void stop() {
    platform.close();
  }

  private AirlockClient client() {
    return AirlockClient.builder().baseUrl(platform.baseUrl() + "/").clock(clock).build();
  }

  /** Answers login and refresh with a fresh pair "at-N"/"rt-N" valid for 900 s. */
  private void issueTokens() {
    platform.on("POST", LOGIN, request -> tokenPair(issued.incrementAndGet()));
    platform.on("POST", REFRESH, request -> tokenPair(issued.incrementAndGet()));
    platform.on("GET", ME, request -> Reply.json(200, me()));
  }

  private static Reply tokenPair(int n) {
    return Reply.json(
        200,
        """
        {"accessToken":"at-%d","refreshToken":"rt-%d","tokenType":"Bearer",
         "expiresIn":900,"refreshExpiresIn":86400,"passwordChangeRequired":false}"""
            .formatted(n, n));
  }

  private static String me() {
    return """
        {"user":{"id":"%s","username":"alice","roles":[],"labels":{},"disabled":false,
                 "createdAt":"2030-01-01T00:00:00Z","updatedAt":"2030-01-01T00:00:00Z"},
         "authMethod":"password","rules":[],"passwordChangeRequired":false}"""
        .formatted(UUID.randomUUID());
  }

  private static List<String> authorizations(List<StubPlatform.Received> requests) {
    return requests.stream().map(r -> String.valueOf(r.header("Authorization"))).toList();
  }

  @Test
  void loginKeepsTheAccessTokenAndSendsItOnLaterCalls() {
    issueTokens();
    AirlockClient airlock = client();

    TokenPair pair = airlock.login("alice", "correct horse battery").block(TIMEOUT);
    Me me = airlock.auth().getMe().block(TIMEOUT);

    assertThat(pair.getAccessToken()).isEqualTo("at-1");
    assertThat(me.getUser().getUsername()).isEqualTo("alice");
    assertThat(airlock.isLoggedIn()).isTrue();
    assertThat(platform.received("POST", LOGIN).get(0).body())
        .isEqualTo("{\"username\":\"alice\",\"password\":\"correct horse battery\"}");
    assertThat(platform.received("POST", LOGIN).get(0).header("Authorization")).isNull();
    assertThat(authorizations(platform.received("GET", ME))).containsExactly("Bearer at-1");
  }

  @Test
  void theTokenIsReadWhenTheCallIsSentNotWhenItIsBuilt() {
    issueTokens();
    AirlockClient airlock = client();
    Mono<Me> builtBeforeLogin = airlock.auth().getMe();

    airlock.login("alice", "correct horse battery").block(TIMEOUT);
    builtBeforeLogin.block(TIMEOUT);

    assertThat(authorizations(platform.received("GET", ME))).containsExactly("Bearer at-1");
  }

  @Test
  void refreshesOnceShortlyBeforeExpiryEvenWhenManyCallsFindTheTokenStale() {
    issueTokens();
    AirlockClient airlock = client();
    airlock.login("alice", "correct horse battery").block(TIMEOUT);

    clock.advance(Duration.ofSeconds(869));
    airlock.auth().getMe().block(TIMEOUT);
    clock.advance(Duration.ofSeconds(2)); // 29 s left: inside the 30 s margin
    Flux.range(0, 8).flatMap(i -> airlock.auth().getMe()).collectList().block(TIMEOUT);

    List<StubPlatform.Received> refreshes = platform.received("POST", REFRESH);
    assertThat(refreshes).hasSize(1);
    assertThat(refreshes.get(0).body()).isEqualTo("{\"refreshToken\":\"rt-1\"}");
    assertThat(refreshes.get(0).header("Authorization")).isNull();
    List<String> sent = authorizations(platform.received("GET", ME));
    assertThat(sent.get(0)).isEqualTo("Bearer at-1");
    assertThat(sent.subList(1, sent.size())).hasSize(8).containsOnly("Bearer at-2");
  }

  @Test
  void aRefusedRefreshFailsTheCallAndEndsTheSession() {
    issueTokens();
    platform.on(
        "POST",
        REFRESH,
        request ->
            Reply.problem(
                401,
                """
                {"type":"urn:airlock:problem:unauthenticated","title":"Unauthenticated",
                 "status":401,"detail":"refresh token already used"}""",
                Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\"")));
    AirlockClient airlock = client();
    airlock.login("alice", "correct horse battery").block(TIMEOUT);
    clock.advance(Duration.ofMinutes(15));

    StepVerifier.create(airlock.auth().getMe())
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        AirlockProblemException.class,
                        problem -> {
                          assertThat(problem.status()).isEqualTo(401);
                          assertThat(problem.problemType())
                              .isEqualTo("urn:airlock:problem:unauthenticated");
                        }))
        .verify(TIMEOUT);
    assertThat(airlock.isLoggedIn()).isFalse();

    airlock.auth().getMe().onErrorResume(e -> Mono.empty()).block(TIMEOUT);
    assertThat(authorizations(platform.received("GET", ME))).containsExactly("null");
  }

  @Test
  void everyNon2xxResponseBecomesAProblemExceptionWithItsDocumentAndHeaders() {
    platform.on(
        "GET",
        "/api/v1/users",
        request ->
            Reply.problem(
                400,
                """
                {"type":"urn:airlock:problem:validation","title":"Invalid request","status":400,
                 "detail":"limit: 0 (expected: 1..500)","instance":"req-42",
                 "errors":[{"field":"limit","message":"must be at least 1"}]}""",
                Map.of("Retry-After", "7")));
    AirlockClient airlock = client().withApiKey("alk_test");

    StepVerifier.create(airlock.users().listUsers(0, null))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        AirlockProblemException.class,
                        problem -> {
                          assertThat(problem.isProblemDocument()).isTrue();
                          assertThat(problem.problemType())
                              .isEqualTo("urn:airlock:problem:validation");
                          assertThat(problem.title()).isEqualTo("Invalid request");
                          assertThat(problem.status()).isEqualTo(400);
                          assertThat(problem.detail()).isEqualTo("limit: 0 (expected: 1..500)");
                          assertThat(problem.instance()).isEqualTo("req-42");
                          assertThat(problem.fieldErrors())
                              .singleElement()
                              .satisfies(
                                  field -> {
                                    assertThat(field.getField()).isEqualTo("limit");
                                    assertThat(field.getMessage()).isEqualTo("must be at least 1");
                                  });
                          assertThat(problem.retryAfter()).contains(Duration.ofSeconds(7));
                          assertThat(problem.getMessage())
                              .contains("urn:airlock:problem:validation", "GET", "/api/v1/users");
                          assertThat(problem.getRequest().getHeaders().isEmpty()).isTrue();
                        }))
        .verify(TIMEOUT);
  }

  @Test
  void aBodyThatIsNotAProblemDocumentStillGivesTheStatus() {
    platform.on(
        "GET", ME, request -> new Reply(502, "text/html", Map.of(), "<html>upstream down</html>"));

    StepVerifier.create(client().auth().getMe())
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        AirlockProblemException.class,
                        problem -> {
                          assertThat(problem.isProblemDocument()).isFalse();
                          assertThat(problem.problemType()).isEqualTo("about:blank");
                          assertThat(problem.title()).isEqualTo("Bad Gateway");
                          assertThat(problem.status()).isEqualTo(502);
                          assertThat(problem.detail()).isEqualTo("<html>upstream down</html>");
                          assertThat(problem.fieldErrors()).isEmpty();
                        }))
        .verify(TIMEOUT);
  }

  @Test
  void anErrorWithADocumentedJsonBodyCanBeReadAsThatType() {
    platform.on(
        "GET",
        "/api/v1/health",
        request ->
            Reply.json(503, "{\"status\":\"DOWN\",\"database\":\"DOWN\",\"version\":\"0.1.0\"}"));

    StepVerifier.create(client().health().getHealth())
        .expectErrorSatisfies(
            error -> {
              AirlockProblemException problem = (AirlockProblemException) error;
              assertThat(problem.status()).isEqualTo(503);
              assertThat(problem.getResponseBodyAs(dev.airlock.sdk.model.Health.class).getStatus())
                  .isEqualTo(dev.airlock.sdk.model.HealthStatus.DOWN);
            })
        .verify(TIMEOUT);
  }

  @Test
  void anApiKeyClientSendsTheKeyAndCannotLogIn() {
    platform.on("GET", ME, request -> Reply.json(200, me()));
    AirlockClient anonymous = client();
    AirlockClient automation = anonymous.withApiKey("alk_0123456789");

    automation.auth().getMe().block(TIMEOUT);
    anonymous.auth().getMe().block(TIMEOUT);

    assertThat(authorizations(platform.received("GET", ME)))
        .containsExactly("Bearer alk_0123456789", "null");
    StepVerifier.create(automation.login("alice", "x"))
        .expectError(IllegalStateException.class)
        .verify(TIMEOUT);
    assertThatThrownBy(() -> anonymous.withApiKey(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("apiKey");
  }

  @Test
  void patchBodiesCarryOnlyThePropertiesThatWereSet() {
    UUID id = UUID.randomUUID();
    platform.on(
        "PATCH",
        "/api/v1/users/" + id,
        request ->
            Reply.json(
                200,
                """
                {"id":"%s","username":"alice","displayName":"Alice","roles":["ops"],"labels":{},
                 "disabled":false,"createdAt":"2030-01-01T00:00:00Z",
                 "updatedAt":"2030-01-01T00:00:00Z"}"""
                    .formatted(id)));

    client()
        .withApiKey("alk_x")
        .users()
        .updateUser(id, new UserUpdate().displayName("Alice"))
        .block(TIMEOUT);

    assertThat(platform.received("PATCH", "/api/v1/users/" + id).get(0).body())
        .isEqualTo("{\"displayName\":\"Alice\"}");
  }

  @Test
  void aCustomWebClientKeepsItsFiltersAndGetsTheSdkBehaviour() {
    platform.on("GET", ME, request -> Reply.json(200, me()));
    WebClient custom =
        WebClient.builder().defaultHeader("User-Agent", "airlock-sdk-test/1").build();
    AirlockClient airlock =
        AirlockClient.builder().baseUrl(platform.baseUrl()).webClient(custom).build();

    airlock.withApiKey("alk_y").auth().getMe().block(TIMEOUT);

    StubPlatform.Received sent = platform.received("GET", ME).get(0);
    assertThat(sent.header("User-Agent")).isEqualTo("airlock-sdk-test/1");
    assertThat(sent.header("Authorization")).isEqualTo("Bearer alk_y");
  }

  @Test
  void theBaseUrlMustBeAnAbsoluteHttpUrl() {
    for (String bad : new String[] {null, "", "airlock.example.com", "ftp://x", "http://h?q=1"}) {
      assertThatThrownBy(() -> AirlockClient.builder().baseUrl(bad).build())
          .as("baseUrl %s", bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("expected: an absolute http or https URL");
    }
    assertThat(AirlockClient.builder().baseUrl("https://airlock.example.com//").build().baseUrl())
        .isEqualTo("https://airlock.example.com");
  }
}
