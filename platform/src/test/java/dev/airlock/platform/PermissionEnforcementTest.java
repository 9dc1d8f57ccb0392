package dev.airlock.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.EntityExchangeResult;

/**
 * For every operation of the spec, the platform demands exactly the permission the operation
 * declares: a user holding only that permission is never refused, and a user allowed everything but
 * that permission always is. Public operations need no credentials; authenticated ones need nothing
 * more than credentials.
 */
class PermissionEnforcementTest extends PlatformTestBase {

  private String admin;
  private String victimId;
  private String adminKeyId;
  private String adminId;

  @BeforeEach
  @SuppressWarnings("unchecked")
  void prepare() throws Exception {
    admin = adminToken();
    adminId =
        (String)
            ((Map<String, Object>)
                    http.get()
                        .uri("/api/v1/auth/me")
                        .headers(h -> h.setBearerAuth(admin))
                        .exchange()
                        .expectBody(Map.class)
                        .returnResult()
                        .getResponseBody()
                        .get("user"))
                .get("id");
    victimId = createUser("victim-" + suffix(), List.of());
    adminKeyId =
        (String)
            post(
                    admin,
                    "/api/v1/api-keys",
                    Map.of("name", "k" + suffix(), "roles", List.of("admin")))
                .get("id");
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyOperationDemandsExactlyItsDeclaredPermission() throws Exception {
    for (var entry : SpecConformanceTest.specOperations().entrySet()) {
      String[] methodAndPath = entry.getKey().split(" ", 2);
      Object declared = entry.getValue().get("x-airlock-permission");
      // A fresh object to act on, since an allowed delete removes it.
      victimId = createUser("victim-" + suffix(), List.of());
      String path =
          methodAndPath[1]
              .replace("{userId}", victimId)
              .replace("{roleName}", "admin")
              .replace("{keyId}", adminKeyId)
              .replace("{tokenId}", UUID.randomUUID().toString())
              .replace("{agentId}", UUID.randomUUID().toString())
              .replace("{sessionId}", UUID.randomUUID().toString())
              .replace("{nodeId}", "node-" + suffix())
              .replace("{containerId}", UUID.randomUUID().toString())
              .replace("{imageName}", "image-" + suffix())
              .replace("{provisionerName}", "provisioner-" + suffix())
              .replace("{sourceName}", "directory-" + suffix())
              .replace("{jobName}", "container-reaper");
      // No session or container exists here (they need an online agent); the contract tests
      // cover reaching one.
      boolean noSuchObject =
          methodAndPath[1].contains("{sessionId}") || methodAndPath[1].contains("{containerId}");
      HttpMethod method = HttpMethod.valueOf(methodAndPath[0]);
      if ("GET /api/v1/api-keys".equals(entry.getKey())) {
        // Listing keys addresses the caller's own unless `owner` names another user's.
        path += "?owner=" + adminId;
      }
      String operation = entry.getKey();

      if ("public".equals(declared)) {
        assertThat(call(method, path, null).getStatus().value())
            .as("%s is public", operation)
            .isNotIn(401, 403);
        continue;
      }
      assertThat(call(method, path, null).getStatus().value())
          .as("%s without credentials", operation)
          .isEqualTo(401);

      String nobody = loginAs(List.of());
      if ("authenticated".equals(declared)) {
        assertThat(call(method, path, nobody).getStatus().value())
            .as("%s with credentials and no roles", operation)
            .isNotIn(401, 403);
        continue;
      }

      var permission = (Map<String, Object>) declared;
      String kind = (String) permission.get("resource");
      String verb = (String) permission.get("verb");
      boolean self = Boolean.TRUE.equals(permission.get("self"));
      String onlyThis =
          loginAs(
              List.of(
                  Map.of("effect", "allow", "resources", List.of(kind), "verbs", List.of(verb))));
      String allButThis =
          loginAs(
              List.of(
                  Map.of("effect", "allow", "resources", List.of("*"), "verbs", List.of("*")),
                  Map.of("effect", "deny", "resources", List.of(kind), "verbs", List.of(verb))));

      EntityExchangeResult<byte[]> allowed = call(method, path, onlyThis);
      assertThat(allowed.getStatus().value())
          .as("%s with only %s:%s → %s", operation, kind, verb, body(allowed))
          .isNotIn(401, 403);
      if (self && !noSuchObject) {
        assertThat(allowed.getStatus().value())
            .as("%s reaches the object", operation)
            .isNotEqualTo(404);
      }

      EntityExchangeResult<byte[]> denied = call(method, path, allButThis);
      if ("GET /api/v1/sessions".equals(operation) || "GET /api/v1/containers".equals(operation)) {
        // Without session:list (container:list) the caller still lists their own.
        assertThat(denied.getStatus().value()).as("%s lists one's own", operation).isEqualTo(200);
        continue;
      }
      if ("POST /api/v1/sessions".equals(operation)) {
        // A container's owner needs no rule, so the refusal comes from the handler once it knows
        // the target; RemoteSessionContractTest and ContainerContractTest prove both sides.
        assertThat(denied.getStatus().value()).as("%s", operation).isNotIn(200, 201);
        continue;
      }
      assertThat(denied.getStatus().value())
          .as("%s with everything but %s:%s → %s", operation, kind, verb, body(denied))
          .isEqualTo(self && !operation.equals("GET /api/v1/api-keys") ? 404 : 403);
    }
  }

  private EntityExchangeResult<byte[]> call(HttpMethod method, String path, String token) {
    var request = http.method(method).uri(path);
    if (token != null) {
      request.headers(h -> h.setBearerAuth(token));
    }
    if (method == HttpMethod.POST || method == HttpMethod.PUT || method == HttpMethod.PATCH) {
      request.contentType(MediaType.APPLICATION_JSON).bodyValue("{}");
    }
    EntityExchangeResult<byte[]> result = request.exchange().expectBody().returnResult();
    assertThat(result.getStatus().value())
        .as("%s %s never fails on the server: %s", method, path, body(result))
        .isLessThan(500);
    return result;
  }

  private String loginAs(List<Map<String, Object>> rules) {
    List<String> roles = List.of();
    if (!rules.isEmpty()) {
      String role = "r-" + suffix();
      post(admin, "/api/v1/roles", Map.of("name", role, "rules", rules));
      roles = List.of(role);
    }
    String username = "u-" + suffix();
    createUser(username, roles);
    return login(username, "a password of the user");
  }

  private String createUser(String username, List<String> roles) {
    return (String)
        post(
                admin,
                "/api/v1/users",
                Map.of("username", username, "password", "a password of the user", "roles", roles))
            .get("id");
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> post(String token, String path, Object body) {
    return http.post()
        .uri(path)
        .headers(h -> h.setBearerAuth(token))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange()
        .expectStatus()
        .isCreated()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody();
  }

  private static String body(EntityExchangeResult<byte[]> result) {
    return result.getResponseBody() == null ? "" : new String(result.getResponseBody());
  }

  private static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
