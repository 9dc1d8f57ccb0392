package dev.airlock.platform.provision;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.matching.RequestPatternBuilder;
import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.provision.api.model.Container;
import dev.airlock.platform.provision.api.model.ContainerSpec;
import dev.airlock.platform.provision.api.model.ContainerState;
import dev.airlock.platform.provision.api.model.IsolationProfile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import reactor.test.StepVerifier;

/**
 * {@link ProvisionClient} against a provisioner that misbehaves on purpose: WireMock over HTTPS
 * with client authentication required, its certificates made with {@code deploy/pki.sh}, and a
 * {@link ProvisionClients} configured the way a deployment configures it. Each case checks what the
 * caller notices and which requests the provisioner received.
 *
 * <p>The timings are real, not virtual: the calls go over real connections (a virtual clock would
 * not move the network), so the settings are short (milliseconds of backoff, timeouts of a second
 * or two) to keep the class fast, and the client stack is warmed up once before the first case.
 */
@Timeout(value = 20, unit = TimeUnit.SECONDS)
class ProvisionClientFaultTest {

  private static final String PASSWORD = "changeit";
  private static final String IMAGE = "airlock/agent:dev";
  private static final String CONTAINERS = "/provisioner/v1/containers/";
  private static final String CAPACITY = "/provisioner/v1/capacity";
  private static final String NAME = "wiremock";

  @TempDir static Path work;

  private static Path pki;
  private static Path otherPki;
  private static WireMockServer provisioner;

  @BeforeAll
  static void startProvisioner() throws Exception {
    pki = work.resolve("pki");
    otherPki = work.resolve("other-pki");
    pkiSh("ca", pki);
    pkiSh("server", pki, "provisioner", "--dns", "localhost", "--ip", "127.0.0.1");
    pkiSh("client", pki, "platform");
    // A platform certificate signed by a CA the provisioner does not trust.
    pkiSh("ca", otherPki);
    pkiSh("client", otherPki, "platform");

    Path keystore = work.resolve("provisioner.p12");
    Path truststore = work.resolve("provisioner-trust.p12");
    run(
        "openssl",
        "pkcs12",
        "-export",
        "-in",
        pki.resolve("provisioner.pem").toString(),
        "-inkey",
        pki.resolve("provisioner-key.pem").toString(),
        "-name",
        "provisioner",
        "-out",
        keystore.toString(),
        "-passout",
        "pass:" + PASSWORD);
    // The provisioner trusts client certificates of the deployment's CA only.
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream ca = Files.newInputStream(pki.resolve("ca.pem"))) {
      trust.setCertificateEntry(
          "airlock-ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
    }
    try (OutputStream out = Files.newOutputStream(truststore)) {
      trust.store(out, PASSWORD.toCharArray());
    }

    provisioner =
        new WireMockServer(
            wireMockConfig()
                .httpDisabled(true)
                .httpsPort(0)
                .keystorePath(keystore.toString())
                .keystoreType("PKCS12")
                .keystorePassword(PASSWORD)
                .keyManagerPassword(PASSWORD)
                .needClientAuth(true)
                .trustStorePath(truststore.toString())
                .trustStoreType("PKCS12")
                .trustStorePassword(PASSWORD));
    provisioner.start();

    // Warms up the client stack (class loading, TLS), so that no case's timings include it.
    provisioner.stubFor(get(CONTAINERS + "warm-up").willReturn(container(200, "warm-up")));
    StepVerifier.create(client(Map.of("call-timeout", "30s")).get("warm-up"))
        .expectNextCount(1)
        .expectComplete()
        .verify(Duration.ofSeconds(30));
  }

  @AfterAll
  static void stopProvisioner() {
    if (provisioner != null) {
      provisioner.stop();
    }
  }

  @BeforeEach
  void forgetEarlierCases() {
    provisioner.resetAll();
  }

  @Test
  void createSucceedsAfterTwoServerErrorsWithThreeIdenticalPuts() {
    String key = key();
    provisioner.stubFor(
        put(CONTAINERS + key)
            .inScenario("flaky " + key)
            .whenScenarioStateIs(STARTED)
            .willReturn(problem(500, "internal", "the engine hiccupped"))
            .willSetStateTo("failed once"));
    provisioner.stubFor(
        put(CONTAINERS + key)
            .inScenario("flaky " + key)
            .whenScenarioStateIs("failed once")
            .willReturn(problem(500, "internal", "the engine hiccupped again"))
            .willSetStateTo("failed twice"));
    provisioner.stubFor(
        put(CONTAINERS + key)
            .inScenario("flaky " + key)
            .whenScenarioStateIs("failed twice")
            .willReturn(container(201, key)));
    ProvisionClient client = client(Map.of());

    StepVerifier.create(client.create(key, spec()))
        .assertNext(
            created -> {
              assertThat(created.getKey()).isEqualTo(key);
              assertThat(created.getImage()).isEqualTo(IMAGE);
              assertThat(created.getState()).isEqualTo(ContainerState.RUNNING);
            })
        .verifyComplete();

    // The same idempotent request each time: same key, same body.
    assertRequests(
        3,
        putRequestedFor(urlEqualTo(CONTAINERS + key))
            .withHeader("Content-Type", containing("application/json"))
            .withRequestBody(
                equalToJson(
                    "{\"image\":\"" + IMAGE + "\",\"profile\":\"standard\",\"env\":{\"A\":\"b\"}}",
                    true,
                    true)));
    assertRequests(3, anyRequestedFor(anyUrl()));
    assertThat(client.health()).isEqualTo("up");
  }

  @Test
  void retriesWaitAnExponentialBackoffWithJitterBetweenAttempts() {
    String key = key();
    provisioner.stubFor(
        put(CONTAINERS + key)
            .willReturn(problem(503, "engine-unavailable", "the engine does not answer")));
    ProvisionClient client = client(Map.of("retries", "2", "retry-backoff", "200ms"));

    StepVerifier.create(client.create(key, spec()))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ProvisionException.class)
                    .hasMessageContaining("answered 503"))
        .verify(Duration.ofSeconds(10));

    assertRequests(3, putRequestedFor(urlEqualTo(CONTAINERS + key)));
    List<Instant> sent =
        provisioner.findAll(putRequestedFor(urlEqualTo(CONTAINERS + key))).stream()
            .map(request -> request.getLoggedDate().toInstant())
            .sorted()
            .toList();
    // 200 ms, then 400 ms, each ±50 %; only the lower bounds, as a busy machine adds to both.
    assertThat(Duration.between(sent.get(0), sent.get(1))).isGreaterThan(Duration.ofMillis(95));
    assertThat(Duration.between(sent.get(1), sent.get(2))).isGreaterThan(Duration.ofMillis(195));
  }

  @Test
  void connectionResetOnEveryAttemptFailsAsUnreachableAfterRetries() throws Exception {
    String key = key();
    provisioner.stubFor(
        put(CONTAINERS + key).willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)));
    ProvisionClient client = client(Map.of("retries", "2"));

    try (SelectorWaker waker = new SelectorWaker(provisioner.httpsPort())) {
      StepVerifier.create(client.create(key, spec()))
          .expectErrorSatisfies(
              e -> {
                assertThat(e)
                    .isInstanceOf(ProvisionException.class)
                    .hasMessageStartingWith(
                        "provisioner " + NAME + " (create " + key + "): unreachable (");
                assertThat(((ProvisionException) e).clientError()).isFalse();
              })
          .verify(Duration.ofSeconds(10));
    }

    assertRequests(3, putRequestedFor(urlEqualTo(CONTAINERS + key)));
    assertThat(client.health()).isEqualTo("down");
  }

  @Test
  void answerSlowerThanTheCallTimeoutFailsAfterRetriesWithoutWaitingForIt() {
    String key = key();
    int delayMillis = 6_000;
    provisioner.stubFor(
        get(CONTAINERS + key).willReturn(container(200, key).withFixedDelay(delayMillis)));
    // Long enough for a new TLS connection per attempt on a busy machine, so each one gets there.
    ProvisionClient client = client(Map.of("call-timeout", "1s", "retries", "2"));

    Duration took =
        StepVerifier.create(client.get(key))
            .expectErrorSatisfies(
                e ->
                    assertThat(e)
                        .isInstanceOf(ProvisionException.class)
                        .hasMessage(
                            "provisioner "
                                + NAME
                                + " (inspect "
                                + key
                                + "): no answer within 1000 ms"))
            .verify(Duration.ofSeconds(10));

    // Three attempts of 1 s and two short backoffs: the caller never waits for the answer.
    assertThat(took).isLessThan(Duration.ofMillis(delayMillis));
    assertRequests(3, getRequestedFor(urlEqualTo(CONTAINERS + key)));
  }

  static Stream<Arguments> malformedBodies() {
    return Stream.of(
        Arguments.of("not JSON", "application/json", "<html>a proxy's error page</html>"),
        Arguments.of("a JSON array", "application/json", "[\"not\", \"a\", \"container\"]"),
        Arguments.of(
            "an unknown state",
            "application/json",
            "{\"key\":\"k\",\"image\":\""
                + IMAGE
                + "\",\"profile\":\"standard\",\"state\":\"exploded\",\"mode\":\"plain\"}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedBodies")
  void successWithAMalformedBodyIsAFailureWorthRetrying(
      String what, String contentType, String body) {
    assertMalformedBodyFails(contentType, body);
  }

  /** Success answers that decode, or do not, into something that is not a container. */
  static Stream<Arguments> successBodiesThatAreNotContainers() {
    return Stream.of(
        // Would decode into a Container whose required fields are all null.
        Arguments.of("no required field", "application/json", "{\"unexpected\":true}"),
        // Would complete empty: neither a container nor an error.
        Arguments.of("no body at all", "application/json", ""),
        // A proxy's page: a 2xx whose body WebClient cannot read.
        Arguments.of("an HTML page", "text/html", "<html>a proxy's error page</html>"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("successBodiesThatAreNotContainers")
  void successWithABodyThatIsNotAContainerIsAFailureWorthRetrying(
      String what, String contentType, String body) {
    assertMalformedBodyFails(contentType, body);
  }

  private void assertMalformedBodyFails(String contentType, String body) {
    String key = key();
    provisioner.stubFor(
        put(CONTAINERS + key)
            .willReturn(
                aResponse()
                    .withStatus(201)
                    .withHeader("Content-Type", contentType)
                    .withBody(body)));
    ProvisionClient client = client(Map.of("retries", "2"));

    StepVerifier.create(client.create(key, spec()))
        .expectErrorSatisfies(
            e -> {
              assertThat(e)
                  .isInstanceOf(ProvisionException.class)
                  .hasMessage(
                      "provisioner "
                          + NAME
                          + " (create "
                          + key
                          + "): answered with a body that is not its API's");
              assertThat(((ProvisionException) e).clientError()).isFalse();
            })
        .verify(Duration.ofSeconds(10));

    assertRequests(3, putRequestedFor(urlEqualTo(CONTAINERS + key)));
    // Counted against the provisioner: every call it answered so far failed.
    assertThat(client.health()).isEqualTo("down");
  }

  @Test
  void problemAnswerIsNeverRetriedAndItsDetailReachesTheCaller() {
    String key = key();
    String detail = "image " + IMAGE + " is not on this engine (nothing is pulled)";
    provisioner.stubFor(
        put(CONTAINERS + key).willReturn(problem(422, "image-not-present", detail)));
    ProvisionClient client = client(Map.of("retries", "2"));

    StepVerifier.create(client.create(key, spec()))
        .expectErrorSatisfies(
            e -> {
              assertThat(e)
                  .isInstanceOf(ProvisionException.class)
                  .hasMessageStartingWith(
                      "provisioner " + NAME + " (create " + key + "): answered 422")
                  .hasMessageEndingWith(": " + detail);
              assertThat(((ProvisionException) e).clientError()).isTrue();
            })
        .verify(Duration.ofSeconds(10));

    assertRequests(1, putRequestedFor(urlEqualTo(CONTAINERS + key)));
    // A refusal of the request is not a failure of the provisioner.
    assertThat(client.health()).isEqualTo("up");
    assertThat(client.available()).isTrue();
  }

  @Test
  void circuitOpensAfterRepeatedFailuresRefusesWithoutCallingAndClosesAfterSuccesses() {
    ProvisionClient client = circuitClient();
    assertThat(client.health()).isEqualTo("unknown");

    openTheCircuit(client);
    assertThat(client.available()).isFalse();
    assertThat(client.health()).isEqualTo("down");
    Instant opened = Instant.now();

    StepVerifier.create(client.capacity())
        .expectErrorSatisfies(
            e -> {
              assertThat(e)
                  .isInstanceOf(ProvisionException.class)
                  .hasMessage(
                      "provisioner "
                          + NAME
                          + " (read capacity): circuit open after repeated failures; not"
                          + " called");
              assertThat(((ProvisionException) e).clientError()).isFalse();
            })
        .verify(Duration.ofSeconds(2));
    assertRequests(4, getRequestedFor(urlEqualTo(CAPACITY)));

    // The provisioner recovers; after the open duration the circuit lets calls through again.
    recover();
    awaitTrue(client::available, Duration.ofSeconds(5));
    assertThat(Duration.between(opened, Instant.now())).isGreaterThan(Duration.ofMillis(800));
    readCapacity(client);
    assertThat(client.available()).isTrue();
    assertThat(client.health()).isEqualTo("up");
    // The second trial call closes the circuit (two are let through while it is half-open).
    readCapacity(client);
    assertThat(client.available()).isTrue();
    assertRequests(6, getRequestedFor(urlEqualTo(CAPACITY)));
  }

  @Test
  void healthIsUpOnceTheCircuitHasClosedAgain() {
    ProvisionClient client = circuitClient();
    openTheCircuit(client);
    recover();
    awaitTrue(client::available, Duration.ofSeconds(5));
    readCapacity(client);
    readCapacity(client);

    assertThat(client.health()).isEqualTo("up");
  }

  /** Opens after 4 calls of which at least half failed, for 1 s; calls are not retried. */
  private static ProvisionClient circuitClient() {
    return client(
        Map.of(
            "retries", "0",
            "minimum-calls", "4",
            "failure-rate-threshold", "50",
            "open-duration", "1s"));
  }

  private static void openTheCircuit(ProvisionClient client) {
    provisioner.stubFor(
        get(CAPACITY).willReturn(problem(503, "engine-unavailable", "the engine does not answer")));
    for (int i = 0; i < 4; i++) {
      StepVerifier.create(client.capacity())
          .expectErrorSatisfies(
              e ->
                  assertThat(e)
                      .isInstanceOf(ProvisionException.class)
                      .hasMessageContaining("answered 503")
                      .hasMessageEndingWith(": the engine does not answer"))
          .verify(Duration.ofSeconds(5));
    }
  }

  private static void recover() {
    provisioner.stubFor(
        get(CAPACITY)
            .atPriority(1)
            .willReturn(
                aResponse()
                    .withStatus(200)
                    .withHeader("Content-Type", "application/json")
                    .withBody(
                        "{\"provisionerId\":\"p\",\"mode\":\"plain\",\"engineVersion\":\"28.0.1\","
                            + "\"running\":1,\"maxContainers\":10,"
                            + "\"profiles\":[\"standard\",\"strict\"],"
                            + "\"images\":[\""
                            + IMAGE
                            + "\"]}")));
  }

  private static void readCapacity(ProvisionClient client) {
    StepVerifier.create(client.capacity())
        .assertNext(capacity -> assertThat(capacity.getMaxContainers()).isEqualTo(10))
        .verifyComplete();
  }

  @Test
  void secondCallWhileOneIsInFlightFailsAtOnceWhenTheBulkheadIsFull() {
    String key = key();
    provisioner.stubFor(
        get(CONTAINERS + key).willReturn(container(200, key).withFixedDelay(1_500)));
    ProvisionClient client = client(Map.of("max-concurrent-calls", "1", "call-timeout", "5s"));

    CompletableFuture<Container> inFlight = client.get(key).toFuture();
    StepVerifier.create(client.get(key))
        .expectErrorSatisfies(
            e -> {
              assertThat(e)
                  .isInstanceOf(ProvisionException.class)
                  .hasMessage(
                      "provisioner "
                          + NAME
                          + " (inspect "
                          + key
                          + "): too many calls in flight (1)");
              assertThat(((ProvisionException) e).clientError()).isFalse();
            })
        .verify(Duration.ofSeconds(1));
    // Refused while the first call was still waiting for its answer, which then arrives.
    assertThat(inFlight).isNotDone();
    assertThat(inFlight)
        .succeedsWithin(Duration.ofSeconds(5))
        .satisfies(found -> assertThat(found.getKey()).isEqualTo(key));

    assertRequests(1, getRequestedFor(urlEqualTo(CONTAINERS + key)));
    // The refusal was the platform's own: the provisioner is fine.
    assertThat(client.available()).isTrue();
  }

  @Test
  void clientWithACertificateOfAnotherCaIsRefusedByTheProvisioner() {
    String key = key();
    provisioner.stubFor(get(CONTAINERS + key).willReturn(container(200, key)));

    // The platform's own certificate gets through: the stub works.
    StepVerifier.create(client(Map.of()).get(key))
        .assertNext(found -> assertThat(found.getKey()).isEqualTo(key))
        .verifyComplete();
    assertRequests(1, anyRequestedFor(anyUrl()));

    ProvisionClient stranger =
        client(
            Map.of(
                "cert-file", otherPki.resolve("platform.pem").toString(),
                "key-file", otherPki.resolve("platform-key.pem").toString(),
                "retries", "1"));
    StepVerifier.create(stranger.get(key))
        .expectErrorSatisfies(
            e -> {
              assertThat(e)
                  .isInstanceOf(ProvisionException.class)
                  .hasMessageStartingWith(
                      "provisioner " + NAME + " (inspect " + key + "): unreachable (");
              assertThat(((ProvisionException) e).clientError()).isFalse();
            })
        .verify(Duration.ofSeconds(10));

    // Refused in the TLS handshake: no request reached the provisioner's HTTP layer.
    assertRequests(1, anyRequestedFor(anyUrl()));
  }

  /**
   * Makes WireMock's connection resets over TLS arrive. WireMock resets a connection by closing its
   * socket with SO_LINGER 0 behind Jetty's back; since JDK 11 the close of a channel registered
   * with a selector is deferred until that selector next wakes up, so without other traffic the
   * reset (and the client's error) may come only much later (wiremock/wiremock#2033). A bare TCP
   * connection every few milliseconds wakes Jetty's selectors; it never gets to HTTP, so WireMock
   * does not journal it.
   */
  private static final class SelectorWaker implements AutoCloseable {

    private final Thread thread;

    SelectorWaker(int port) {
      thread =
          new Thread(
              () -> {
                while (!Thread.currentThread().isInterrupted()) {
                  try (Socket socket = new Socket("127.0.0.1", port)) {
                    socket.setSoLinger(true, 0);
                  } catch (IOException ignored) {
                    // The next one will do.
                  }
                  try {
                    Thread.sleep(20);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "wiremock-selector-waker");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() throws InterruptedException {
      thread.interrupt();
      thread.join(1_000);
    }
  }

  /**
   * A client with short timings, the platform's certificate and the provisioners' CA; {@code
   * overrides} are {@code airlock.provisioning.*} settings, bound as the platform binds them.
   */
  private static ProvisionClient client(Map<String, String> overrides) {
    Map<String, String> settings = new HashMap<>();
    settings.put("cert-file", pki.resolve("platform.pem").toString());
    settings.put("key-file", pki.resolve("platform-key.pem").toString());
    settings.put("ca-file", pki.resolve("ca.pem").toString());
    settings.put("call-timeout", "2s");
    settings.put("create-timeout", "3s");
    settings.put("retries", "2");
    settings.put("retry-backoff", "20ms");
    settings.put("failure-rate-threshold", "50");
    settings.put("minimum-calls", "10");
    settings.put("open-duration", "1s");
    settings.put("max-concurrent-calls", "4");
    settings.putAll(overrides);
    Map<String, String> properties = new HashMap<>();
    settings.forEach((name, value) -> properties.put("airlock.provisioning." + name, value));
    AirlockProperties airlock =
        new Binder(new MapConfigurationPropertySource(properties))
            .bindOrCreate("airlock", AirlockProperties.class);
    ProvisionClients clients = new ProvisionClients(airlock, null);
    assertThat(clients.configurationProblem()).isNull();
    return clients.client(
        new ProvisionerRow(
            UUID.randomUUID(),
            NAME,
            "https://localhost:" + provisioner.httpsPort() + "/",
            Map.of(),
            10,
            "plain",
            Instant.now()));
  }

  private static String key() {
    return UUID.randomUUID().toString();
  }

  private static ContainerSpec spec() {
    return new ContainerSpec().image(IMAGE).profile(IsolationProfile.STANDARD).putEnvItem("A", "b");
  }

  private static ResponseDefinitionBuilder container(int status, String key) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(
            "{\"key\":\""
                + key
                + "\",\"engineId\":\"3f1c9a\",\"image\":\""
                + IMAGE
                + "\",\"profile\":\"standard\",\"state\":\"running\",\"mode\":\"plain\","
                + "\"runtime\":\"runc\",\"labels\":{},\"createdAt\":\"2025-06-01T10:00:00Z\"}");
  }

  private static ResponseDefinitionBuilder problem(int status, String type, String detail) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/problem+json")
        .withBody(
            "{\"type\":\"urn:airlock:problem:"
                + type
                + "\",\"title\":\""
                + type
                + "\",\"status\":"
                + status
                + ",\"detail\":\""
                + detail
                + "\"}");
  }

  /**
   * Exactly {@code expected} requests matched; waits briefly first, as WireMock may still be
   * journaling the last one when the caller already has its answer.
   */
  private static void assertRequests(int expected, RequestPatternBuilder pattern) {
    long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos();
    while (provisioner.findAll(pattern).size() < expected && System.nanoTime() < deadline) {
      sleep(20);
    }
    sleep(50);
    provisioner.verify(expected, pattern);
  }

  private static void awaitTrue(BooleanSupplier condition, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waited %s", limit).isLessThan(deadline);
      sleep(20);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void pkiSh(String command, Path dir, String... args) throws Exception {
    List<String> line =
        new ArrayList<>(List.of("bash", script().toString(), command, dir.toString()));
    line.addAll(List.of(args));
    run(line.toArray(String[]::new));
  }

  /** The project's own {@code deploy/pki.sh}, found from the module's directory upwards. */
  private static Path script() {
    for (Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        dir != null;
        dir = dir.getParent()) {
      Path script = dir.resolve("deploy/pki.sh");
      if (Files.isRegularFile(script)) {
        return script;
      }
    }
    throw new IllegalStateException(
        "deploy/pki.sh not found above " + System.getProperty("user.dir"));
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
    assertThat(process.exitValue())
        .as("%s: %s", String.join(" ", command), new String(output, StandardCharsets.UTF_8))
        .isZero();
  }
}
