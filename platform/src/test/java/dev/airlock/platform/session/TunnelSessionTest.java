package dev.airlock.platform.session;

import static dev.airlock.platform.TestAgents.target;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.platform.PlatformTestBase;
import dev.airlock.platform.TestAgents;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Tunnel sessions to an edge node's targets: who may open one (connect on the node's labels, and
 * for SSH a rule listing the login), which targets (only those the node declares), what the connect
 * token carries to the signal node, and how the session and its audit events are recorded.
 */
class TunnelSessionTest extends PlatformTestBase {

  private static final String PASSWORD = "a password of the user";

  private String admin;
  private TestAgents agents;
  private String node;
  private String mark;
  private TestAgents.Enrolled edge;
  private TestAgents.Enrolled desktop;

  @BeforeEach
  void prepare() throws Exception {
    admin = adminToken();
    agents = new TestAgents(http, admin);
    node = "signal-" + suffix();
    agents.registerNode(node);
    mark = suffix();
    edge =
        agents.enrol(
            node,
            "node",
            Map.of("site", "edge", "test", mark),
            "edge-" + mark,
            List.of(target("ssh", "ssh"), target("app:grafana", "app"), target("tcp:6443", "tcp")));
    desktop =
        agents.enrol(
            node, "desktop", Map.of("site", "edge", "test", mark), "desk-" + mark, List.of());
  }

  @Test
  @SuppressWarnings("unchecked")
  void anAllowedLoginOpensAnSshTunnelWhoseTokenNamesTargetAndLogin() throws Exception {
    User user = userWith(allow(List.of("deploy")));

    Map<String, Object> created =
        createSession(user.token(), tunnel(edge.name(), "ssh", "deploy"))
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    assertThat(created)
        .containsEntry("mode", "tunnel")
        .containsEntry("tunnelTarget", "ssh")
        .containsEntry("login", "deploy")
        .containsEntry("transport", "relay")
        .containsEntry("agentId", edge.id())
        .containsEntry("signalNodeId", node);
    assertThat((List<Object>) created.get("iceServers")).as("a tunnel uses no ICE").isEmpty();

    JWTClaimsSet claims = SignedJWT.parse((String) created.get("connectToken")).getJWTClaimsSet();
    assertThat(claims.getStringClaim("mod")).isEqualTo("tunnel");
    assertThat(claims.getStringClaim("tgt")).isEqualTo("ssh");
    assertThat(claims.getStringClaim("lgn")).isEqualTo("deploy");
    assertThat(claims.getStringClaim("trp")).isEqualTo("relay");
    assertThat(claims.getStringClaim("agt")).isEqualTo(edge.id());
    assertThat(claims.getStringClaim("nod")).isEqualTo(node);

    String id = (String) created.get("id");
    Map<String, Object> read = getSession(id);
    assertThat(read)
        .containsEntry("mode", "tunnel")
        .containsEntry("tunnelTarget", "ssh")
        .containsEntry("login", "deploy");
    List<Map<String, Object>> listed =
        (List<Map<String, Object>>)
            http.get()
                .uri("/api/v1/sessions?agent={agent}", edge.id())
                .headers(h -> h.setBearerAuth(admin))
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(Map.class)
                .returnResult()
                .getResponseBody()
                .get("items");
    assertThat(listed)
        .filteredOn(s -> id.equals(s.get("id")))
        .singleElement()
        .satisfies(
            s ->
                assertThat(s)
                    .containsEntry("tunnelTarget", "ssh")
                    .containsEntry("login", "deploy"));

    Map<String, Object> audited = lastEvent("session.create", user.name());
    assertThat(audited).containsEntry("outcome", "success");
    assertThat((String) audited.get("reason"))
        .isEqualTo("node " + edge.name() + ", target ssh, login deploy");
    assertThat((String) audited.get("reason")).doesNotContain(PASSWORD);
  }

  @Test
  void aWebAppTunnelTakesNoLoginAndItsTokenCarriesNone() throws Exception {
    User user = userWith(allow(null));
    @SuppressWarnings("unchecked")
    Map<String, Object> created =
        createSession(user.token(), tunnel(edge.name(), "app:grafana", null))
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    assertThat(created).containsEntry("tunnelTarget", "app:grafana").doesNotContainKey("login");
    JWTClaimsSet claims = SignedJWT.parse((String) created.get("connectToken")).getJWTClaimsSet();
    assertThat(claims.getStringClaim("tgt")).isEqualTo("app:grafana");
    assertThat(claims.getClaims()).doesNotContainKey("lgn");
    assertThat(claims.getStringClaim("mod")).isEqualTo("tunnel");
  }

  @Test
  void aTargetTheNodeDoesNotDeclareIsUnknownAndTheProblemSaysWhatItExposes() throws Exception {
    createSession(admin, tunnel(edge.name(), "tcp:22", null))
        .expectStatus()
        .isNotFound()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:tunnel-target-unknown")
        .jsonPath("$.detail")
        .isEqualTo(
            "Node "
                + edge.name()
                + " does not expose tcp:22; it exposes ssh, app:grafana, tcp:6443");
  }

  @Test
  void aTunnelToATrustedClusterNamesTheLeafsNodeAndCarriesWhoAsksToTheLeaf() throws Exception {
    TestAgents.Enrolled leaf =
        agents.enrol(
            node, "cluster", Map.of("site", "edge", "test", mark), "leaf-" + mark, List.of());
    // Only connect on the cluster's labels: the login is the leaf's to decide.
    User user = userWith(allow(null));
    Map<String, Object> body = tunnel(leaf.name(), "ssh", "deploy");
    body.put("node", "web-1");
    @SuppressWarnings("unchecked")
    Map<String, Object> created =
        createSession(user.token(), body)
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    assertThat(created)
        .containsEntry("agentId", leaf.id())
        .containsEntry("node", "web-1")
        .containsEntry("tunnelTarget", "ssh")
        .containsEntry("login", "deploy");

    JWTClaimsSet claims = SignedJWT.parse((String) created.get("connectToken")).getJWTClaimsSet();
    assertThat(claims.getStringClaim("rnd")).isEqualTo("web-1");
    assertThat(claims.getStringClaim("rcl")).as("this cluster's name").isEqualTo("airlock");
    assertThat(claims.getStringListClaim("rls")).hasSize(1).allMatch(r -> r.startsWith("r-"));
    assertThat(claims.getStringClaim("lgn")).isEqualTo("deploy");
    assertThat(getSession((String) created.get("id"))).containsEntry("node", "web-1");
    assertThat((String) lastEvent("session.create", user.name()).get("reason"))
        .isEqualTo(
            "routed to trusted cluster "
                + leaf.name()
                + ", node web-1, target ssh, login deploy (the leaf decides and audits)");

    // The leaf's node list: no node, no login.
    createSession(user.token(), tunnel(leaf.name(), "nodes", null)).expectStatus().isCreated();
  }

  @Test
  void nodeAndTheNodeListFitOnlyATrustedClusterAndAClusterNeedsANode() throws Exception {
    TestAgents.Enrolled leaf =
        agents.enrol(
            node, "cluster", Map.of("site", "edge", "test", mark), "leaf-" + mark, List.of());
    Map<String, Object> toEdge = tunnel(edge.name(), "ssh", "root");
    toEdge.put("node", "web-1");
    createSession(admin, toEdge)
        .expectStatus()
        .isNotFound()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:tunnel-target-unknown")
        .jsonPath("$.detail")
        .value(detail -> assertThat((String) detail).contains("not a trusted cluster"));
    createSession(admin, tunnel(edge.name(), "nodes", null)).expectStatus().isNotFound();
    expectInvalid(tunnel(leaf.name(), "ssh", "root"), "node");
    expectInvalid(tunnel(leaf.name(), "nodes", "root"), "login");
    Map<String, Object> viewWithNode = new LinkedHashMap<>();
    viewWithNode.put("target", desktop.name());
    viewWithNode.put("mode", "view");
    viewWithNode.put("node", "web-1");
    expectInvalid(viewWithNode, "node");
    expectInvalid(Map.of("target", leaf.name(), "mode", "control"), "mode");
  }

  @Test
  void actingForAnotherClustersUserIsRefusedAndAuditedWhereNoRootIsTrusted() throws Exception {
    User user = userWith(allow(List.of("*")));
    http.post()
        .uri("/api/v1/sessions")
        .headers(
            h -> {
              h.setBearerAuth(user.token());
              h.set("Airlock-Cluster", "root");
              h.set("Airlock-Cluster-User", "mallory");
              h.set("Airlock-Cluster-Roles", "admin");
            })
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(tunnel(edge.name(), "ssh", "root"))
        .exchange()
        .expectStatus()
        .isForbidden()
        .expectBody()
        .jsonPath("$.detail")
        .value(detail -> assertThat((String) detail).contains("trusts no root cluster"));
    Map<String, Object> refused = lastEvent("agent.view", user.name());
    assertThat(refused).containsEntry("outcome", "denied");
    assertThat((String) refused.get("reason")).contains("acting for another cluster");
  }

  @Test
  void aDesktopIsNoTunnelTarget() throws Exception {
    createSession(admin, tunnel(desktop.name(), "ssh", "root"))
        .expectStatus()
        .isNotFound()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:tunnel-target-unknown")
        .jsonPath("$.detail")
        .value(detail -> assertThat((String) detail).contains("desktop agent, not an edge node"));
  }

  @Test
  void tunnelFieldsMustFitTheMode() throws Exception {
    expectInvalid(tunnel(edge.name(), null, null), "tunnelTarget");
    expectInvalid(tunnel(edge.name(), "ssh", null), "login");
    expectInvalid(tunnel(edge.name(), "app:grafana", "deploy"), "login");
    Map<String, Object> control = new LinkedHashMap<>();
    control.put("target", desktop.name());
    control.put("tunnelTarget", "ssh");
    control.put("login", "deploy");
    expectInvalid(control, "tunnelTarget", "login");
    expectInvalid(Map.of("target", edge.name(), "mode", "view", "login", "deploy"), "login");
  }

  @Test
  void aLoginNoRuleListsIsRefusedAndAudited() throws Exception {
    User user = userWith(allow(List.of("deploy")));
    createSession(user.token(), tunnel(edge.name(), "ssh", "root"))
        .expectStatus()
        .isForbidden()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:forbidden");

    Map<String, Object> audited = lastEvent("agent.connect", user.name());
    assertThat(audited)
        .containsEntry("outcome", "denied")
        .containsEntry("reason", "ssh login root not allowed on node " + edge.name())
        .containsEntry("target", edge.id() + " (" + edge.name() + ")");
  }

  @Test
  void anAllowRuleWithoutLoginsAllowsNoSshLogin() throws Exception {
    User user = userWith(allow(null));
    createSession(user.token(), tunnel(edge.name(), "ssh", "deploy")).expectStatus().isForbidden();
  }

  @Test
  void viewingANodeIsNotEnoughForATunnel() throws Exception {
    Map<String, Object> view = rule("allow", "view", List.of("*"));
    User user = userWith(view);
    createSession(user.token(), tunnel(edge.name(), "app:grafana", null))
        .expectStatus()
        .isForbidden();
    assertThat(lastEvent("agent.connect", user.name())).containsEntry("outcome", "denied");
  }

  @Test
  void aDenyRuleListingTheLoginWinsOverAnyAllow() throws Exception {
    String user =
        userWith(
                allow(List.of("*")),
                rule("deny", "connect", List.of("root")),
                // A deny for another label selector does not touch this node.
                denyElsewhere(List.of("deploy")))
            .token();
    createSession(user, tunnel(edge.name(), "ssh", "root")).expectStatus().isForbidden();
    createSession(user, tunnel(edge.name(), "ssh", "deploy")).expectStatus().isCreated();
    // A deny naming logins refuses only those logins, not the node's other targets.
    createSession(user, tunnel(edge.name(), "tcp:6443", null)).expectStatus().isCreated();
  }

  @Test
  void anyLoginGoesWithAStar() throws Exception {
    String user = userWith(allow(List.of("*"))).token();
    createSession(user, tunnel(edge.name(), "ssh", "root")).expectStatus().isCreated();
    createSession(user, tunnel(edge.name(), "ssh", "www-data")).expectStatus().isCreated();
  }

  @Test
  void theAdministratorMaySshAsAnyone() throws Exception {
    createSession(admin, tunnel(edge.name(), "ssh", "root")).expectStatus().isCreated();
    http.get()
        .uri("/api/v1/roles/admin")
        .headers(h -> h.setBearerAuth(admin))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.rules[0].logins")
        .isEqualTo(List.of("*"));
  }

  @Test
  void anOfflineNodeIsOfflineForTunnelsToo() throws Exception {
    http.delete()
        .uri("/api/v1/signal-nodes/{node}/agent-connections/{agent}", node, edge.id())
        .headers(h -> h.setBearerAuth(admin))
        .exchange()
        .expectStatus()
        .isNoContent();
    createSession(admin, tunnel(edge.name(), "ssh", "root"))
        .expectStatus()
        .isEqualTo(409)
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:agent-offline");
  }

  @Test
  @SuppressWarnings("unchecked")
  void aTunnelsEndIsRecordedAsRelayedWithBytesBothWays() throws Exception {
    Map<String, Object> created =
        createSession(admin, tunnel(edge.name(), "tcp:6443", null))
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    String id = (String) created.get("id");
    String tokenId =
        SignedJWT.parse((String) created.get("connectToken")).getJWTClaimsSet().getJWTID();
    signalNodeCall("session-starts", Map.of("sessionId", id, "tokenId", tokenId))
        .expectStatus()
        .isOk();
    // The node reports no path for a tunnel; its bytes can only have passed through signal.
    signalNodeCall(
            "session-ends",
            Map.of(
                "sessionId",
                id,
                "reason",
                "target closed",
                "bytesFromClient",
                1234,
                "bytesFromAgent",
                56789))
        .expectStatus()
        .isOk();

    assertThat(getSession(id))
        .containsEntry("state", "ended")
        .containsEntry("path", "relay")
        .containsEntry("endReason", "target closed")
        .containsEntry("bytesFromClient", 1234)
        .containsEntry("bytesFromAgent", 56789)
        .containsEntry("tunnelTarget", "tcp:6443");
    assertThat((String) lastEvent("session.end", "admin").get("reason"))
        .contains("path relay, bytes from client 1234, from agent 56789, reason: target closed");
  }

  @Test
  void loginsAreStoredWithRolesAndMustBeAccountNames() throws Exception {
    String role = "r-" + suffix();
    post(
        admin,
        "/api/v1/roles",
        Map.of("name", role, "rules", List.of(allow(List.of("deploy", "*")))));
    http.get()
        .uri("/api/v1/roles/{role}", role)
        .headers(h -> h.setBearerAuth(admin))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.rules[0].logins")
        .isEqualTo(List.of("deploy", "*"));

    http.post()
        .uri("/api/v1/roles")
        .headers(h -> h.setBearerAuth(admin))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(
            Map.of("name", "r-" + suffix(), "rules", List.of(allow(List.of("Root; rm -rf")))))
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:validation")
        .jsonPath("$.detail")
        .value(detail -> assertThat((String) detail).contains("logins"));
  }

  /** An allow rule on agent connect for this test's node (by its labels), with these logins. */
  private Map<String, Object> allow(List<String> logins) {
    return rule("allow", "connect", logins);
  }

  private Map<String, Object> rule(String effect, String verb, List<String> logins) {
    Map<String, Object> rule = new LinkedHashMap<>();
    rule.put("effect", effect);
    rule.put("resources", List.of("agent"));
    rule.put("verbs", List.of(verb));
    rule.put("labels", Map.of("site", "edge", "test", mark));
    if (logins != null) {
      rule.put("logins", logins);
    }
    return rule;
  }

  private Map<String, Object> denyElsewhere(List<String> logins) {
    Map<String, Object> rule = rule("deny", "connect", logins);
    rule.put("labels", Map.of("site", "elsewhere"));
    return rule;
  }

  /** A user and their access token. */
  private record User(String name, String token) {}

  /** A new user holding one role made of {@code rules}. */
  @SafeVarargs
  private User userWith(Map<String, Object>... rules) {
    String role = "r-" + suffix();
    post(admin, "/api/v1/roles", Map.of("name", role, "rules", List.of(rules)));
    String username = "u-" + suffix();
    post(
        admin,
        "/api/v1/users",
        Map.of("username", username, "password", PASSWORD, "roles", List.of(role)));
    return new User(username, login(username, PASSWORD));
  }

  private static Map<String, Object> tunnel(String target, String tunnelTarget, String login) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("target", target);
    body.put("mode", "tunnel");
    if (tunnelTarget != null) {
      body.put("tunnelTarget", tunnelTarget);
    }
    if (login != null) {
      body.put("login", login);
    }
    return body;
  }

  private WebTestClient.ResponseSpec createSession(String token, Map<String, Object> body) {
    return http.post()
        .uri("/api/v1/sessions")
        .headers(h -> h.setBearerAuth(token))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange();
  }

  private void expectInvalid(Map<String, Object> body, String... fields) {
    createSession(admin, body)
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:validation")
        .jsonPath("$.errors[*].field")
        .isEqualTo(List.of(fields));
  }

  private WebTestClient.ResponseSpec signalNodeCall(String path, Map<String, Object> body) {
    return http.post()
        .uri("/api/v1/signal-nodes/{node}/" + path, node)
        .headers(h -> h.setBearerAuth(admin))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange();
  }

  private Map<String, Object> getSession(String id) {
    return getJson("/api/v1/sessions/" + id, admin);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> lastEvent(String action, String actor) {
    List<Map<String, Object>> events =
        (List<Map<String, Object>>)
            http.get()
                .uri("/api/v1/audit/events?action={action}&actor={actor}&limit=1", action, actor)
                .headers(h -> h.setBearerAuth(admin))
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(Map.class)
                .returnResult()
                .getResponseBody()
                .get("items");
    assertThat(events).as("%s by %s is audited", action, actor).isNotEmpty();
    return events.get(0);
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

  private static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
