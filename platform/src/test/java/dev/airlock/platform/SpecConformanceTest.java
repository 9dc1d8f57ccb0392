package dev.airlock.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.rbac.PermissionRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.reactive.result.method.annotation.RequestMappingHandlerMapping;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The running platform serves exactly the operations of {@code openapi/airlock.yaml}. */
class SpecConformanceTest extends PlatformTestBase {

  private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch");

  @Autowired
  @Qualifier("requestMappingHandlerMapping")
  RequestMappingHandlerMapping handlers;

  @Autowired PermissionRegistry permissions;

  @Test
  void servedRoutesAreExactlyTheSpecOperations() throws Exception {
    Set<String> served = new TreeSet<>();
    handlers
        .getHandlerMethods()
        .keySet()
        .forEach(
            info ->
                info.getPatternsCondition().getPatterns().stream()
                    .map(Object::toString)
                    .filter(path -> path.startsWith("/api/"))
                    .forEach(
                        path ->
                            info.getMethodsCondition()
                                .getMethods()
                                .forEach(method -> served.add(method + " " + path))));

    assertThat(served).isEqualTo(specOperations().keySet());
  }

  @Test
  void everyOperationDeclaresAPermissionThePlatformUnderstands() throws Exception {
    Map<String, Map<String, Object>> operations = specOperations();
    for (var entry : operations.entrySet()) {
      assertThat(entry.getValue())
          .as("%s declares x-airlock-permission", entry.getKey())
          .containsKey("x-airlock-permission");
    }
    Set<String> ids =
        operations.values().stream()
            .map(op -> (String) op.get("operationId"))
            .collect(Collectors.toSet());
    assertThat(permissions.all().keySet()).isEqualTo(ids);
  }

  @Test
  @SuppressWarnings("unchecked")
  void problemTypesInTheSpecAreTheOnesThePlatformUses() throws Exception {
    Map<String, Object> spec = spec();
    Set<String> listed = ((Map<String, Object>) spec.get("x-airlock-problem-types")).keySet();
    Set<String> used =
        Arrays.stream(ProblemType.values()).map(ProblemType::uri).collect(Collectors.toSet());
    assertThat(new TreeSet<>(listed)).isEqualTo(new TreeSet<>(used));
  }

  @Test
  void theServedSpecIsTheSourceOfTruthAndSwaggerUiShowsIt() throws Exception {
    byte[] source = Files.readAllBytes(specFile());
    byte[] served =
        http.get()
            .uri("/openapi/airlock.yaml")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody()
            .returnResult()
            .getResponseBody();
    assertThat(served).isEqualTo(source);

    http.get()
        .uri("/v3/api-docs/swagger-config")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.url")
        .isEqualTo("/openapi/airlock.yaml");
    http.get().uri("/webjars/swagger-ui/index.html").exchange().expectStatus().isOk();
  }

  static Path specFile() {
    Path here = Path.of("").toAbsolutePath();
    Path spec = here.resolve("../openapi/airlock.yaml");
    return Files.exists(spec) ? spec : here.resolve("openapi/airlock.yaml");
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> spec() throws Exception {
    try (InputStream in = Files.newInputStream(specFile())) {
      return new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    }
  }

  /** "METHOD /path" → the operation object. */
  @SuppressWarnings("unchecked")
  static Map<String, Map<String, Object>> specOperations() throws Exception {
    Map<String, Map<String, Object>> operations = new java.util.TreeMap<>();
    var paths = (Map<String, Map<String, Object>>) spec().get("paths");
    paths.forEach(
        (path, item) ->
            item.forEach(
                (method, operation) -> {
                  if (METHODS.contains(method)) {
                    operations.put(
                        method.toUpperCase() + " " + path, (Map<String, Object>) operation);
                  }
                }));
    return operations;
  }
}
