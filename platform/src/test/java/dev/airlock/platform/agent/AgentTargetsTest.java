package dev.airlock.platform.agent;

import static dev.airlock.platform.TestAgents.target;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import dev.airlock.platform.PlatformTestBase;
import dev.airlock.platform.TestAgents;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

/**
 * An edge node's declared targets: recorded at enrolment, replaced at every connect, shown with the
 * agent; never kept for desktops; a contradictory declaration is refused.
 */
class AgentTargetsTest extends PlatformTestBase {

  private String admin;
  private TestAgents agents;
  private String node;

  @BeforeEach
  void prepare() throws Exception {
    admin = adminToken();
    agents = new TestAgents(http, admin);
    node = "signal-" + suffix();
    agents.registerNode(node);
  }

  @Test
  void aNodesTargetsAreRecordedAtEnrolmentAndReplacedAtEachConnect() throws Exception {
    String mark = suffix();
    TestAgents.Enrolled edge =
        agents.enrol(
            node,
            "node",
            Map.of("test", mark),
            "edge-" + mark,
            List.of(
                target("ssh", "ssh"),
                Map.of("name", "app:grafana", "kind", "app", "description", "Dashboards")));
    assertThat(names(edge.agent())).containsExactly("ssh", "app:grafana");

    Map<String, Object> read = getAgent(edge.id());
    assertThat(names(read)).containsExactly("ssh", "app:grafana");
    assertThat(targets(read).get(1))
        .containsEntry("kind", "app")
        .containsEntry("description", "Dashboards");

    Map<String, Object> connected = agents.connect(node, edge, List.of(target("tcp:6443", "tcp")));
    assertThat(names(connected)).containsExactly("tcp:6443");
    assertThat(names(getAgent(edge.id()))).as("the old ones are gone").containsExactly("tcp:6443");

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> listed =
        (List<Map<String, Object>>)
            http.get()
                .uri("/api/v1/agents?label=test={mark}", mark)
                .headers(h -> h.setBearerAuth(admin))
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(Map.class)
                .returnResult()
                .getResponseBody()
                .get("items");
    assertThat(listed).hasSize(1);
    assertThat(names(listed.get(0))).containsExactly("tcp:6443");

    agents.connect(node, edge, null);
    assertThat(targets(getAgent(edge.id())))
        .as("a connect without targets declares none")
        .isEmpty();
  }

  @Test
  void aDesktopNeverHasTargetsWhateverItDeclares() throws Exception {
    TestAgents.Enrolled desktop =
        agents.enrol(node, "desktop", Map.of(), "desk-" + suffix(), List.of(target("ssh", "ssh")));
    assertThat(targets(desktop.agent())).isEmpty();

    agents.connect(node, desktop, List.of(target("tcp:22", "tcp")));
    assertThat(targets(getAgent(desktop.id()))).isNotNull().isEmpty();
  }

  @Test
  void aContradictoryDeclarationIsRefusedAndSpendsNothing() throws Exception {
    String joinToken = agents.joinToken("node", Map.of());
    var key = new ECKeyGenerator(Curve.P_256).generate();
    http.post()
        .uri("/api/v1/signal-nodes/{node}/enrolments", node)
        .headers(h -> h.setBearerAuth(admin))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(
            TestAgents.enrolment(
                joinToken,
                key,
                "edge-" + suffix(),
                List.of(
                    target("ssh", "ssh"),
                    target("tcp:6443", "app"),
                    target("tcp:70000", "tcp"),
                    target("ssh", "ssh"))))
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:validation")
        .jsonPath("$.errors[*].field")
        .isEqualTo(List.of("targets[1].kind", "targets[2].name", "targets[3].name"));

    // The token was not spent: the same agent enrols with a sound declaration.
    http.post()
        .uri("/api/v1/signal-nodes/{node}/enrolments", node)
        .headers(h -> h.setBearerAuth(admin))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(
            TestAgents.enrolment(
                joinToken, key, "edge-" + suffix(), List.of(target("tcp:6443", "tcp"))))
        .exchange()
        .expectStatus()
        .isCreated();
  }

  @Test
  void aTargetNameOutsideThePatternIsRefused() throws Exception {
    http.post()
        .uri("/api/v1/signal-nodes/{node}/enrolments", node)
        .headers(h -> h.setBearerAuth(admin))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(
            TestAgents.enrolment(
                agents.joinToken("node", Map.of()),
                new ECKeyGenerator(Curve.P_256).generate(),
                "edge-" + suffix(),
                List.of(target("http://10.0.0.1:22", "tcp"))))
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.type")
        .isEqualTo("urn:airlock:problem:validation");
  }

  private Map<String, Object> getAgent(String id) {
    return getJson("/api/v1/agents/" + id, admin);
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> targets(Map<String, Object> agent) {
    return (List<Map<String, Object>>) agent.get("targets");
  }

  private static List<String> names(Map<String, Object> agent) {
    return targets(agent).stream().map(t -> (String) t.get("name")).toList();
  }

  private static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
