package dev.airlock.provisioner.container;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.exception.NotFoundException;
import dev.airlock.provisioner.api.model.Problem;
import dev.airlock.provisioner.support.TestEngine;
import dev.airlock.provisioner.support.TestPki;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A provisioner in plain mode ({@code mode=plain}) on the test engine, which is a Swarm manager:
 * the common contract, plus the refusals and the secrecy of the environment.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "airlock.provisioner.id=" + PlainModeTest.ID,
      "airlock.provisioner.mode=plain",
      "airlock.provisioner.max-containers=" + PlainModeTest.MAX,
      "airlock.provisioner.strict-network=" + PlainModeTest.STRICT_NETWORK,
      "airlock.provisioner.strict-bridge=alk-test-plain",
      // Everything this module and Spring's web layer log, to show that the environment is
      // still never in it.
      "logging.level.dev.airlock=DEBUG",
      "logging.level.org.springframework.web=DEBUG",
      "logging.level.org.springframework.http=DEBUG"
    })
@ExtendWith(OutputCaptureExtension.class)
class PlainModeTest extends ModeContract {

  static final String ID = "test-plain";
  static final int MAX = 3;
  static final String STRICT_NETWORK = "airlock-test-strict-plain";

  @DynamicPropertySource
  static void engineAndCertificates(DynamicPropertyRegistry registry) {
    registry.add("airlock.provisioner.docker-host", TestEngine::host);
    registry.add("airlock.provisioner.tls.cert-file", () -> TestPki.get().serverCert());
    registry.add("airlock.provisioner.tls.key-file", () -> TestPki.get().serverKey());
    registry.add("airlock.provisioner.tls.ca-file", () -> TestPki.get().ca());
  }

  @BeforeAll
  static void engineReady() throws Exception {
    TestEngine.requireImages();
    TestEngine.removeOwnedBy(ID);
    TestEngine.removeNetwork(STRICT_NETWORK);
  }

  @AfterAll
  static void removeStrictNetwork() {
    TestEngine.removeOwnedBy(ID);
    TestEngine.removeNetwork(STRICT_NETWORK);
  }

  @Override
  String provisionerId() {
    return ID;
  }

  @Override
  String expectedMode() {
    return "plain";
  }

  @Override
  String engineContainer(String engineId) {
    return engineId;
  }

  @Override
  boolean goneFromEngine(String key) {
    try {
      TestEngine.docker().inspectContainerCmd("airlock-" + key).exec();
      return false;
    } catch (NotFoundException e) {
      return true;
    }
  }

  @Override
  boolean noNewPrivilegesExpected() {
    return true;
  }

  @Override
  String strictNetwork() {
    return STRICT_NETWORK;
  }

  @Test
  void settingsTheCallerMayNotChooseAreRefused() {
    for (String forbidden : List.of("privileged", "binds", "devices", "capAdd", "network")) {
      Map<String, Object> body =
          Map.of("image", TestEngine.PROBE_IMAGE, "profile", "standard", forbidden, true);
      Problem problem = putProblem(newKey(), body, HttpStatus.BAD_REQUEST);
      assertThat(problem.getType()).isEqualTo("urn:airlock:problem:malformed-request");
      assertThat(problem.getDetail()).startsWith(forbidden + ": unknown property");
      assertThat(problem.getErrors())
          .singleElement()
          .satisfies(e -> assertThat(e.getField()).isEqualTo(forbidden));
    }
    Problem nested =
        putProblem(
            newKey(),
            Map.of(
                "image",
                TestEngine.PROBE_IMAGE,
                "profile",
                "standard",
                "resources",
                Map.of("memoryBytes", 1 << 30, "swap", 0)),
            HttpStatus.BAD_REQUEST);
    assertThat(nested.getDetail()).startsWith("resources.swap: unknown property");
    assertThat(TestEngine.containers(Map.of("dev.airlock.provisioner", ID))).isEmpty();
  }

  @Test
  void anUnknownProfileABadRequestAndAMissingImageAreRefused() {
    Problem profile =
        putProblem(newKey(), spec(TestEngine.PROBE_IMAGE, "privileged"), HttpStatus.BAD_REQUEST);
    assertThat(profile.getType()).isEqualTo("urn:airlock:problem:unknown-profile");
    assertThat(profile.getDetail()).contains("standard", "strict");

    Problem invalid =
        putProblem(
            newKey(),
            Map.of(
                "image",
                "Not An Image",
                "profile",
                "standard",
                "env",
                Map.of("lower_case", "x"),
                "resources",
                Map.of("pids", 1)),
            HttpStatus.BAD_REQUEST);
    assertThat(invalid.getType()).isEqualTo("urn:airlock:problem:validation");
    assertThat(invalid.getErrors())
        .extracting(e -> e.getField())
        .containsExactlyInAnyOrder("image", "env", "resources.pids");

    Problem key =
        putProblem("Bad_Key", spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.BAD_REQUEST);
    assertThat(key.getType()).isEqualTo("urn:airlock:problem:validation");
    assertThat(key.getErrors()).extracting(e -> e.getField()).containsExactly("key");

    Problem notJson =
        problem(
            client
                .put()
                .uri("/containers/{key}", newKey())
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"image\": "),
            HttpStatus.BAD_REQUEST);
    assertThat(notJson.getType()).isEqualTo("urn:airlock:problem:malformed-request");

    Problem missing =
        putProblem(
            newKey(), spec("airlock/never-built:1", "standard"), HttpStatus.UNPROCESSABLE_CONTENT);
    assertThat(missing.getType()).isEqualTo("urn:airlock:problem:image-not-present");
    assertThat(missing.getDetail()).contains("airlock/never-built:1", "never pulls");
    assertThat(TestEngine.imagePresent("airlock/never-built:1")).isFalse();

    Problem route = problem(client.get().uri("/nothing-here"), HttpStatus.NOT_FOUND);
    assertThat(route.getType()).isEqualTo("urn:airlock:problem:not-found");
  }

  @Test
  void noMoreThanMaxContainersRun() {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < MAX; i++) {
      String key = newKey();
      put(key, spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.CREATED);
      keys.add(key);
    }
    Problem full =
        putProblem(
            newKey(), spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.TOO_MANY_REQUESTS);
    assertThat(full.getType()).isEqualTo("urn:airlock:problem:capacity-exhausted");
    assertThat(full.getDetail()).contains("max-containers=" + MAX);
    // A retry of a create that succeeded is still answered: nothing new is needed.
    put(keys.get(0), spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.OK);
    client.delete().uri("/containers/{key}", keys.get(0)).exchange().expectStatus().isNoContent();
    put(newKey(), spec(TestEngine.PROBE_IMAGE, "standard"), HttpStatus.CREATED);
  }

  @Test
  void theEnvironmentIsNeverLoggedNorAnswered(CapturedOutput output) throws Exception {
    // Letters and digits only: a JSON parser quotes such a token whole in its error messages.
    String secret = "join" + UUID.randomUUID().toString().replace("-", "");
    String key = newKey();
    Map<String, Object> body =
        Map.of(
            "image",
            TestEngine.PROBE_IMAGE,
            "profile",
            "strict",
            "env",
            Map.of("AIRLOCK_JOIN_TOKEN", secret));
    var created = put(key, body, HttpStatus.CREATED);
    assertThat(new String(created.getResponseBodyContent())).doesNotContain(secret);
    // The engine got it: the agent needs it.
    String env =
        TestEngine.exec(
                created.getResponseBody().getEngineId(), "sh", "-c", "echo $AIRLOCK_JOIN_TOKEN")
            .output();
    assertThat(env.strip()).isEqualTo(secret);

    // Refused requests that carry it: unknown property, bad variable, bad JSON around it.
    var refusals =
        List.<Object>of(
            Map.of(
                "image",
                TestEngine.PROBE_IMAGE,
                "profile",
                "standard",
                "env",
                Map.of("T", secret),
                "binds",
                List.of("/:/host")),
            Map.of(
                "image",
                TestEngine.PROBE_IMAGE,
                "profile",
                "standard",
                "env",
                Map.of("bad name", secret)),
            Map.of(
                "image",
                TestEngine.PROBE_IMAGE,
                "profile",
                "standard",
                "env",
                Map.of("T", secret + "x".repeat(5000))),
            "{\"image\":\"" + TestEngine.PROBE_IMAGE + "\",\"env\":{\"T\":" + secret + "}}",
            Map.of(
                "image",
                "airlock/never-built:1",
                "profile",
                "standard",
                "env",
                Map.of("T", secret)));
    for (Object refused : refusals) {
      String answer =
          new String(
              client
                  .put()
                  .uri("/containers/{key}", newKey())
                  .contentType(MediaType.APPLICATION_JSON)
                  .bodyValue(refused)
                  .exchange()
                  .expectStatus()
                  .is4xxClientError()
                  .expectBody()
                  .returnResult()
                  .getResponseBodyContent());
      assertThat(answer).doesNotContain(secret);
    }
    client
        .get()
        .uri("/containers/{key}", key)
        .exchange()
        .expectBody()
        .consumeWith(
            r -> assertThat(new String(r.getResponseBodyContent())).doesNotContain(secret));
    client.delete().uri("/containers/{key}", key).exchange().expectStatus().isNoContent();

    assertThat(output.getAll()).contains("airlock-" + key).doesNotContain(secret);
  }
}
