package dev.airlock.contract;

import static dev.airlock.contract.Accounts.allow;
import static dev.airlock.contract.harness.ContractPlatform.ADMIN_USERNAME;
import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.airlock.contract.Accounts.Account;
import dev.airlock.contract.SpecOperations.Operation;
import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.Verb;
import io.swagger.v3.oas.models.parameters.Parameter;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.reactive.function.client.WebClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Bad input on every operation of the spec (read from it, so a new operation is covered at once):
 * malformed JSON, unknown properties, values of the wrong type, oversize bodies, other media types,
 * invalid path and query parameters. Each must get a 4xx problem document, never a 5xx, never a
 * stack trace. Sent as the admin, so that permissions are never the reason for a refusal.
 */
@ContractTest
class MalformedRequestContractTest {

  private static final int BODY_LIMIT = 64 * 1024;
  private static final String UNKNOWN_PROPERTY = "airlockContractUnknownProperty";
  private static final Pattern STACK_TRACE =
      Pattern.compile("\\bat [\\w$.]+\\(|\\.java:\\d+\\)|\\b[\\w.]+(Exception|Error)\\b");
  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** A bad request and what it must get back. */
  private record Expectation(List<Integer> statuses, List<String> types) {

    static Expectation of(int status, String... types) {
      return new Expectation(List.of(status), List.of(types));
    }

    /** Also accepts 404 not-found, for paths whose ids the test could not make real. */
    Expectation orNotFound() {
      List<Integer> statuses = new ArrayList<>(this.statuses);
      statuses.add(404);
      List<String> types = new ArrayList<>(this.types);
      types.add("not-found");
      return new Expectation(statuses, types);
    }
  }

  /** Sends requests as the admin to real objects, so only the input can be wrong. */
  private record Sender(ContractPlatform platform, String token, Map<String, String> realIds) {

    ResponseEntity<String> send(
        String method, String pathAndQuery, MediaType contentType, byte[] body) {
      WebClient.RequestBodySpec request =
          platform
              .rawWebClient()
              .method(HttpMethod.valueOf(method))
              .uri(URI.create(platform.baseUrl() + pathAndQuery))
              .headers(
                  headers -> {
                    headers.setBearerAuth(token);
                    headers.setAccept(
                        List.of(MediaType.APPLICATION_JSON, MediaType.APPLICATION_PROBLEM_JSON));
                    if (contentType != null) {
                      headers.setContentType(contentType);
                    }
                  });
      WebClient.RequestHeadersSpec<?> ready = body == null ? request : request.bodyValue(body);
      return ready.exchangeToMono(response -> response.toEntity(String.class)).block(CALL_TIMEOUT);
    }
  }

  @TestFactory
  Stream<DynamicNode> everyOperationAnswersBadInputWithA4xxProblem(ContractPlatform platform) {
    List<Operation> operations = SpecOperations.read(platform.spec());
    assertThat(operations).as("operations in %s", platform.spec()).isNotEmpty();
    Sender sender = new Sender(platform, adminToken(platform), realIds(platform));
    return operations.stream()
        .map(operation -> dynamicContainer(operation.toString(), cases(operation, sender)));
  }

  @Test
  void aPathTheSpecDoesNotDescribeIsARouteNotFoundProblem(ContractPlatform platform) {
    Sender sender = new Sender(platform, adminToken(platform), Map.of());

    expect(
        "an unknown path",
        sender,
        "GET",
        "/api/v1/no-such-thing",
        null,
        null,
        Expectation.of(404, "route-not-found"));
  }

  @Test
  void aMethodThePathDoesNotHaveIsAMethodNotAllowedProblem(ContractPlatform platform) {
    Sender sender = new Sender(platform, adminToken(platform), Map.of());

    expect(
        "an unknown method",
        sender,
        "DELETE",
        "/api/v1/health",
        null,
        null,
        Expectation.of(405, "method-not-allowed"));
  }

  private static Stream<DynamicTest> cases(Operation operation, Sender sender) {
    Map<String, String> pathValues = new HashMap<>();
    boolean idsAreReal = true;
    for (Parameter parameter : operation.pathParameters()) {
      String real = sender.realIds().get(parameter.getName());
      idsAreReal &= real != null;
      pathValues.put(
          parameter.getName(), real != null ? real : SpecOperations.validParameter(parameter));
    }
    String path = operation.path(pathValues);
    String method = operation.method();
    List<DynamicTest> tests = new ArrayList<>();

    if (operation.hasBody()) {
      boolean real = idsAreReal;
      ObjectNode valid = (ObjectNode) SpecOperations.valid(operation.body());
      tests.add(
          test(
              "malformed JSON",
              sender,
              method,
              path,
              MediaType.APPLICATION_JSON,
              "{\"broken\": ".getBytes(StandardCharsets.UTF_8),
              onRealIds(Expectation.of(400, "malformed-request"), real)));
      tests.add(
          test(
              "an unknown property",
              sender,
              method,
              path,
              MediaType.APPLICATION_JSON,
              bytes(valid.deepCopy().put(UNKNOWN_PROPERTY, true)),
              onRealIds(Expectation.of(400, "unknown-property"), real)));
      SpecOperations.properties(operation.body())
          .forEach(
              (name, schema) -> {
                ObjectNode body = valid.deepCopy();
                body.set(name, SpecOperations.wrongType(schema));
                tests.add(
                    test(
                        "'" + name + "' of the wrong JSON type: " + body.get(name),
                        sender,
                        method,
                        path,
                        MediaType.APPLICATION_JSON,
                        bytes(body),
                        onRealIds(Expectation.of(400, "malformed-request"), real)));
              });
      tests.add(
          test(
              "a body over 64 KiB",
              sender,
              method,
              path,
              MediaType.APPLICATION_JSON,
              oversize(),
              Expectation.of(413, "payload-too-large")));
      tests.add(
          test(
              "a text/plain body",
              sender,
              method,
              path,
              MediaType.TEXT_PLAIN,
              bytes(valid),
              onRealIds(Expectation.of(415, "unsupported-media-type"), real)));
      if (operation.bodyRequired()) {
        tests.add(
            test(
                "no body",
                sender,
                method,
                path,
                MediaType.APPLICATION_JSON,
                null,
                onRealIds(
                    new Expectation(List.of(400), List.of("malformed-request", "validation")),
                    real)));
      }
    }

    for (Parameter parameter : operation.pathParameters()) {
      SpecOperations.invalidParameterValues(parameter)
          .forEach(
              (what, value) -> {
                Map<String, String> values = new HashMap<>(pathValues);
                values.put(parameter.getName(), value);
                tests.add(
                    test(
                        "path parameter '" + parameter.getName() + "' " + what,
                        sender,
                        method,
                        operation.path(values),
                        operation.hasBody() ? MediaType.APPLICATION_JSON : null,
                        operation.hasBody() ? bytes(SpecOperations.valid(operation.body())) : null,
                        new Expectation(
                            List.of(400, 404),
                            List.of("validation", "malformed-request", "not-found"))));
              });
    }

    for (Parameter parameter : operation.queryParameters()) {
      SpecOperations.invalidParameterValues(parameter)
          .forEach(
              (what, value) ->
                  tests.add(
                      test(
                          "query parameter '" + parameter.getName() + "' " + what,
                          sender,
                          method,
                          path
                              + "?"
                              + parameter.getName()
                              + "="
                              + URLEncoder.encode(value, StandardCharsets.UTF_8),
                          null,
                          null,
                          new Expectation(
                              List.of(400), List.of("validation", "malformed-request")))));
    }
    return tests.stream();
  }

  private static Expectation onRealIds(Expectation expectation, boolean idsAreReal) {
    return idsAreReal ? expectation : expectation.orNotFound();
  }

  private static DynamicTest test(
      String name,
      Sender sender,
      String method,
      String pathAndQuery,
      MediaType contentType,
      byte[] body,
      Expectation expectation) {
    String display = name + " -> " + expectation.statuses() + " " + expectation.types();
    return dynamicTest(
        display,
        () -> expect(display, sender, method, pathAndQuery, contentType, body, expectation));
  }

  private static void expect(
      String what,
      Sender sender,
      String method,
      String pathAndQuery,
      MediaType contentType,
      byte[] body,
      Expectation expectation) {
    ResponseEntity<String> response = sender.send(method, pathAndQuery, contentType, body);
    int status = response.getStatusCode().value();
    String text = response.getBody() == null ? "" : response.getBody();
    String exchange = what + ": " + method + " " + pathAndQuery + " -> " + status + " " + text;

    assertThat(status).as(exchange).isIn(expectation.statuses());
    assertThat(STACK_TRACE.matcher(text).find()).as("a stack trace in %s", exchange).isFalse();
    assertThat(response.getHeaders().getContentType())
        .as("Content-Type of %s", exchange)
        .satisfies(
            type ->
                assertThat(
                        type != null
                            && type.equalsTypeAndSubtype(MediaType.APPLICATION_PROBLEM_JSON))
                    .isTrue());
    JsonNode problem = JSON.readTree(text);
    assertThat(problem.path("type").asString())
        .as(exchange)
        .isIn(expectation.types().stream().map(t -> Problems.PREFIX + t).toList());
    assertThat(problem.path("status").asInt()).as(exchange).isEqualTo(status);
  }

  private static String adminToken(ContractPlatform platform) {
    return platform
        .newClient()
        .login(ADMIN_USERNAME, platform.adminPassword())
        .block(CALL_TIMEOUT)
        .getAccessToken();
  }

  /** A user, a role and an API key that exist, by the path parameter names that address them. */
  private static Map<String, String> realIds(ContractPlatform platform) {
    Accounts accounts = new Accounts(platform);
    String role = accounts.role("scratch", allow(ResourceKind.API_KEY, Verb.CREATE));
    Account user = accounts.user("scratch", role);
    String keyId =
        accounts
            .login(user)
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("scratch").roles(List.of(role)))
            .block(CALL_TIMEOUT)
            .getId()
            .toString();
    return Map.of("userId", user.user().getId().toString(), "roleName", role, "keyId", keyId);
  }

  private static byte[] oversize() {
    String padding = "a".repeat(BODY_LIMIT + 1024);
    return ("{\"" + UNKNOWN_PROPERTY + "\":\"" + padding + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] bytes(JsonNode json) {
    return JSON.writeValueAsBytes(json);
  }
}
