package dev.airlock.contract.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.SignalSocket;
import dev.airlock.contract.harness.TestNetwork;
import dev.airlock.contract.harness.ValidatingProxy;
import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.message.Enrolment;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.JoinTokenCreate;
import dev.airlock.sdk.model.JoinTokenCreated;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.RoleCreate;
import dev.airlock.sdk.model.Rule;
import dev.airlock.sdk.model.Session;
import dev.airlock.sdk.model.SessionCreate;
import dev.airlock.sdk.model.SessionCreated;
import dev.airlock.sdk.model.SessionMode;
import dev.airlock.sdk.model.SessionPath;
import dev.airlock.sdk.model.SessionState;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.sdk.model.Verb;
import dev.airlock.testkit.ManagedProcess;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Agents enrol, go online, and users reach them: peer to peer when the network allows, through the
 * signal node's relay when it does not; every credential that should be refused is, and audited.
 * Everything is real: the platform jar on MariaDB, two signal nodes, agent processes and an SDK
 * client in their own network namespaces, coturn answering STUN.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RemoteSessionContractTest {

  private static final Duration CALL = Duration.ofSeconds(30);
  private static final Duration START = Duration.ofSeconds(120);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int ECHO_BYTES = 256 * 1024;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final Map<String, ManagedProcess> agents = new LinkedHashMap<>();
  private Path work;
  private TestDatabase database;
  private PlatformProcess platform;
  private ValidatingProxy proxy;
  private AirlockClient admin;
  private String adminKey;
  private String directUrl;
  private Path keyFile;
  private int node1Port;
  private int node2Port;
  private ManagedProcess node1;
  private ManagedProcess node2;
  private JoinTokenCreated joinToken;

  @BeforeAll
  void startEverything() throws Exception {
    TestNetwork.require();
    work =
        Path.of(System.getProperty("airlock.contract.work.dir", "target/contract"))
            .toAbsolutePath()
            .resolve("remote-" + System.currentTimeMillis());
    Files.createDirectories(work);
    database = TestDatabase.fresh("airlock_ct_");
    database.requireReachable();
    int platformPort = PlatformProcess.freePort();
    Path dataDir = work.resolve("platform-data");
    Files.createDirectories(dataDir);
    platform =
        PlatformProcess.start(
            ContractPlatform.platformJar(),
            platformPort,
            database,
            dataDir,
            work.resolve("platform.log"),
            List.of(
                "--airlock.ice.stun-urls=" + TestNetwork.stunUrl(),
                "--airlock.sessions.connect-token-ttl=15s"));
    toClose.add(platform);
    platform.awaitHealthy(START);
    proxy = ValidatingProxy.start(specPath(), platform.baseUrl());
    toClose.add(proxy);
    admin =
        ContractPlatform.firstAdministrator(
            platform, proxy.baseUrl(), "remote access admin password");
    adminKey =
        admin
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("probe").roles(List.of("admin")))
            .block(CALL)
            .getSecret();
    directUrl = "http://" + TestNetwork.HUB + ":" + platformPort;
    keyFile = dataDir.resolve("signal-node-key");
    awaitFile(keyFile);

    node1Port = PlatformProcess.freePort();
    node2Port = PlatformProcess.freePort();
    node1 = startSignal("node-1", node1Port);
    node2 = startSignal("node-2", node2Port);

    joinToken =
        admin
            .agents()
            .createJoinToken(
                new JoinTokenCreate()
                    .kind(AgentKind.DESKTOP)
                    .labels(Map.of("team", "blue"))
                    .maxUses(3)
                    .description("remote session tests"))
            .block(CALL);
    startAgent("agent-one", TestNetwork.AGENT_1, TestNetwork.HUB, joinToken.getToken());
    startAgent("agent-two", TestNetwork.AGENT_2, TestNetwork.HUB, joinToken.getToken());
    startAgent(
        "agent-iso",
        TestNetwork.ISOLATED,
        TestNetwork.ISOLATED_HUB,
        joinToken.getToken(),
        node2Port);
    agents.get("agent-one").awaitLine("online at node node-1", 0, Duration.ofSeconds(60));
    agents.get("agent-two").awaitLine("online at node node-1", 0, Duration.ofSeconds(60));
    agents.get("agent-iso").awaitLine("online at node node-2", 0, Duration.ofSeconds(60));
  }

  @AfterAll
  void stopEverything() throws Exception {
    for (ManagedProcess agent : agents.values()) {
      agent.close();
    }
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        // keep stopping the rest
      }
    }
    if (database != null) {
      database.drop();
    }
    if (proxy != null) {
      assertThat(proxy.drainViolations())
          .as("every response matched openapi/airlock.yaml")
          .isEmpty();
    }
  }

  @Test
  @Order(1)
  void enrolledAgentsAreOnlineAtTheirNodeWithTheirFingerprint() throws Exception {
    List<Agent> listed =
        admin
            .agents()
            .listAgents(AgentKind.DESKTOP, true, List.of("team=blue"), null, null)
            .block(CALL)
            .getItems();
    assertThat(listed)
        .extracting(Agent::getHostname)
        .containsExactlyInAnyOrder("agent-one", "agent-two", "agent-iso");
    for (Agent agent : listed) {
      assertThat(agent.getOnline()).isTrue();
      String node = agent.getHostname().equals("agent-iso") ? "node-2" : "node-1";
      int port = node.equals("node-1") ? node1Port : node2Port;
      assertThat(agent.getSignalNodeId()).isEqualTo(node);
      assertThat(agent.getSignalUrl()).isEqualTo("ws://" + TestNetwork.HUB + ":" + port);
      assertThat(agent.getDtlsFingerprint()).matches("sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}");
      assertThat(agent.getLabels()).containsEntry("team", "blue");
    }
    assertThat(admin.agents().listJoinTokens(null, null).block(CALL).getItems().get(0).getUses())
        .as("uses of the join token")
        .isEqualTo(3);

    // The token is used up: a fourth machine is refused, and that is audited.
    var answer =
        SignalSocket.send(
            node1Url(),
            new SignalMessage()
                .type(MessageType.HELLO)
                .protocol(1)
                .enrol(
                    new Enrolment()
                        .joinToken(joinToken.getToken())
                        .publicKey("{\"kty\":\"EC\"}")
                        .dtlsFingerprint("sha-256 " + "AB:".repeat(31) + "AB")
                        .hostname("agent-four")),
            Duration.ofSeconds(10));
    assertThat(answer.closeCode()).as(answer.toString()).isEqualTo(CloseCodes.UNAUTHENTICATED);
    assertThat(audit("agent.enrol"))
        .anySatisfy(e -> assertThat(e.getOutcome().getValue()).isEqualTo("failure"));
  }

  @Test
  @Order(2)
  void rolesDecideWhoMayConnectOrOnlyViewByTheAgentsLabels() throws Exception {
    // May list agents labelled team=blue and view them, but not control them.
    admin
        .roles()
        .createRole(
            new RoleCreate()
                .name("blue-viewer")
                .rules(
                    List.of(
                        new Rule()
                            .effect(Rule.EffectEnum.ALLOW)
                            .resources(List.of(ResourceKind.AGENT))
                            .verbs(List.of(Verb.LIST, Verb.VIEW))
                            .labels(Map.of("team", "blue")))))
        .block(CALL);
    admin
        .users()
        .createUser(
            new UserCreate()
                .username("viewer")
                .password("viewer's long password")
                .roles(List.of("blue-viewer")))
        .block(CALL);
    AirlockClient viewer = AirlockClient.builder().baseUrl(proxy.baseUrl()).build();
    viewer.login("viewer", "viewer's long password").block(CALL);

    assertThat(viewer.agents().listAgents(null, null, null, null, null).block(CALL).getItems())
        .extracting(Agent::getHostname)
        .containsExactlyInAnyOrder("agent-one", "agent-two", "agent-iso");
    SessionCreated watching =
        viewer
            .sessions()
            .createSession(new SessionCreate().target("agent-one").mode(SessionMode.VIEW))
            .block(CALL);
    assertThat(watching.getMode()).isEqualTo(SessionMode.VIEW);
    assertThatThrownBy(
            () ->
                viewer
                    .sessions()
                    .createSession(new SessionCreate().target("agent-one"))
                    .block(CALL))
        .isInstanceOfSatisfying(
            AirlockProblemException.class,
            e -> {
              assertThat(e.status()).isEqualTo(403);
              assertThat(e.detail()).contains("connect").contains("agent-one");
            });
    assertThat(audit("agent.connect"))
        .anySatisfy(
            e -> {
              assertThat(e.getActor()).isEqualTo("viewer");
              assertThat(e.getOutcome().getValue()).isEqualTo("denied");
            });
    // The viewer sees their own session, not others'.
    assertThat(viewer.sessions().listSessions(null, null, null, null).block(CALL).getItems())
        .extracting(Session::getId)
        .containsExactly(watching.getId());
    admin.sessions().terminateSession(watching.getId()).block(CALL);
  }

  @Test
  @Order(3)
  void aClientReachesTwoAgentsPeerToPeerAndBytesFlowBothWays() throws Exception {
    for (String agent : List.of("agent-one", "agent-two")) {
      JsonNode probe = probe(agent, "auto", 0);
      assertThat(probe.get("ok").asBoolean()).as(probe.toString()).isTrue();
      assertThat(probe.get("path").asString()).as("path to %s", agent).isEqualTo("p2p");
      assertThat(probe.get("echoedBytes").asInt()).isEqualTo(ECHO_BYTES);
      assertThat(probe.get("intact").asBoolean()).as("echoed bytes equal the sent ones").isTrue();
      assertThat(probe.get("info").asString()).contains(agent).contains("p2p");
      Session session = awaitEnded(UUID.fromString(probe.get("sessionId").asString()));
      assertThat(session.getPath()).isEqualTo(SessionPath.P2P);
      assertThat(session.getSignalNodeId()).isEqualTo("node-1");
      assertThat(session.getBytesFromClient())
          .as("p2p bytes the client reported")
          .isGreaterThanOrEqualTo((long) ECHO_BYTES);
      assertThat(session.getBytesFromAgent()).isGreaterThanOrEqualTo((long) ECHO_BYTES);
    }
    assertThat(audit("session.end"))
        .anySatisfy(e -> assertThat(e.getReason()).contains("path p2p").contains("duration"));
  }

  @Test
  @Order(4)
  void withNoRouteBetweenThePeersTheRelayCarriesTheSession() throws Exception {
    JsonNode probe = probe("agent-iso", "auto", 0);
    assertThat(probe.get("ok").asBoolean()).as(probe.toString()).isTrue();
    assertThat(probe.get("path").asString()).isEqualTo("relay");
    assertThat(probe.get("intact").asBoolean()).isTrue();
    Session session = awaitEnded(UUID.fromString(probe.get("sessionId").asString()));
    assertThat(session.getPath()).isEqualTo(SessionPath.RELAY);
    assertThat(session.getSignalNodeId()).as("the node that holds the agent").isEqualTo("node-2");
    assertThat(session.getBytesFromClient()).isGreaterThanOrEqualTo((long) ECHO_BYTES);
    assertThat(session.getBytesFromAgent()).isGreaterThanOrEqualTo((long) ECHO_BYTES);
    assertThat(audit("session.end"))
        .anySatisfy(e -> assertThat(e.getReason()).contains("path relay"));
  }

  @Test
  @Order(5)
  void aSessionAskingForTheRelayGetsItEvenWhenPeerToPeerWouldWork() throws Exception {
    JsonNode probe = probe("agent-one", "relay", 0);
    assertThat(probe.get("ok").asBoolean()).as(probe.toString()).isTrue();
    assertThat(probe.get("path").asString()).isEqualTo("relay");
    assertThat(probe.get("intact").asBoolean()).isTrue();
  }

  @Test
  @Order(6)
  void refusedConnectTokensAreRefusedAndAudited() throws Exception {
    // Replayed: the first use works, the second fails on this node and on any other.
    SessionCreated session = createSession("agent-one");
    var first =
        SignalSocket.send(
            session.getSignalUrl(), hello(session.getConnectToken()), Duration.ofSeconds(3));
    assertThat(first.message()).as(first.toString()).isPresent();
    assertThat(first.message().get().getType()).isEqualTo(MessageType.WELCOME);
    var replay =
        SignalSocket.send(
            session.getSignalUrl(), hello(session.getConnectToken()), Duration.ofSeconds(10));
    assertThat(replay.closeCode()).as(replay.toString()).isEqualTo(CloseCodes.TOKEN_REPLAYED);
    var elsewhere =
        SignalSocket.send(
            node2Url().replace("/agent", "/client"),
            hello(session.getConnectToken()),
            Duration.ofSeconds(10));
    assertThat(elsewhere.closeCode())
        .as(elsewhere.toString())
        .isIn(CloseCodes.UNAUTHENTICATED, CloseCodes.TOKEN_REPLAYED);

    // Forged: a valid token with its claims changed no longer matches its signature.
    String token = createSession("agent-one").getConnectToken();
    String[] parts = token.split("\\.");
    String claims = new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    String forgedClaims =
        claims
            .replaceAll("\"mod\":\"[a-z]+\"", "\"mod\":\"control\"")
            .replaceAll("\"sub\":\"[^\"]+\"", "\"sub\":\"" + UUID.randomUUID() + "\"");
    String forged =
        parts[0]
            + "."
            + Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(forgedClaims.getBytes(StandardCharsets.UTF_8))
            + "."
            + parts[2];
    var forgedAnswer = SignalSocket.send(node1ClientUrl(), hello(forged), Duration.ofSeconds(10));
    assertThat(forgedAnswer.closeCode())
        .as(forgedAnswer.toString())
        .isEqualTo(CloseCodes.UNAUTHENTICATED);

    // Wrong audience: an access token is not a connect token.
    String accessToken =
        admin.login("admin", "remote access admin password").block(CALL).getAccessToken();
    var wrongAudience =
        SignalSocket.send(node1ClientUrl(), hello(accessToken), Duration.ofSeconds(10));
    assertThat(wrongAudience.closeCode())
        .as(wrongAudience.toString())
        .isEqualTo(CloseCodes.UNAUTHENTICATED);
    assertThat(wrongAudience.closeReason()).containsIgnoringCase("audience");

    // Expired: the platform here issues 15-second tokens.
    SessionCreated late = createSession("agent-two");
    Thread.sleep(16_000);
    var expired =
        SignalSocket.send(
            late.getSignalUrl(), hello(late.getConnectToken()), Duration.ofSeconds(10));
    assertThat(expired.closeCode())
        .as(expired.toString())
        .isIn(CloseCodes.UNAUTHENTICATED, CloseCodes.TOKEN_REPLAYED);

    List<AuditEvent> refusals =
        Stream.concat(audit("session.connect").stream(), audit("session.start").stream())
            .filter(e -> !e.getOutcome().getValue().equals("success"))
            .toList();
    assertThat(refusals)
        .extracting(AuditEvent::getReason)
        .anySatisfy(r -> assertThat(r).containsIgnoringCase("replayed"))
        .anySatisfy(r -> assertThat(r).containsIgnoringCase("signature"))
        .anySatisfy(r -> assertThat(r).containsIgnoringCase("audience"));
  }

  @Test
  @Order(7)
  void terminatingALiveSessionCutsItAtOnceAndIsAudited() throws Exception {
    try (ManagedProcess probe = startProbe("agent-two", "auto", 60)) {
      UUID id =
          UUID.fromString(
              probe.awaitLine("PROBE-HOLDING (\\S+)", 0, Duration.ofSeconds(60)).group(1));
      assertThat(admin.sessions().getSession(id).block(CALL).getState())
          .isEqualTo(SessionState.ACTIVE);
      Instant cut = Instant.now();
      admin.sessions().terminateSession(id).block(CALL);
      JsonNode result =
          JSON.readTree(probe.awaitLine("^PROBE (\\{.*\\})$", 0, Duration.ofSeconds(10)).group(1));
      assertThat(Duration.between(cut, Instant.now())).isLessThan(Duration.ofSeconds(3));
      assertThat(result.get("closedBy").asString()).as(result.toString()).contains("4410");
      Session ended = awaitEnded(id);
      assertThat(ended.getEndReason()).isEqualTo("terminated by admin");
    }
    assertThat(audit("session.terminate")).isNotEmpty();
  }

  @Test
  @Order(8)
  void whenTheSignalNodeRestartsEveryAgentIsBackWithinTenSeconds() throws Exception {
    Map<String, Long> before = new LinkedHashMap<>();
    for (String name : List.of("agent-one", "agent-two")) {
      before.put(name, agents.get(name).countLines("online at node node-1"));
    }
    node1.close();
    Instant down = Instant.now();
    node1 = startSignal("node-1", node1Port);
    // The node's own start (a JVM and Spring Boot, seconds on a loaded machine) is not the agents'
    // doing: they must be back within 10 s of the node listening again.
    Instant up = Instant.now();
    Map<String, Duration> back = new LinkedHashMap<>();
    for (String name : before.keySet()) {
      agents
          .get(name)
          .awaitLine("online at node node-1", before.get(name).intValue(), Duration.ofSeconds(30));
      back.put(name, Duration.between(up, Instant.now()));
    }
    assertThat(back.values())
        .as(
            "time from the node listening again to each agent back: %s (node down for %s)",
            back, Duration.between(down, up))
        .allSatisfy(d -> assertThat(d).isLessThan(Duration.ofSeconds(10)));
    assertThat(admin.agents().listAgents(null, true, null, null, null).block(CALL).getItems())
        .hasSize(3);
  }

  @Test
  @Order(9)
  void anSdpFingerprintThatIsNotTheEnrolledOneEndsTheConnection() throws Exception {
    // The agent comes back with a new DTLS certificate: its SDP no longer carries the
    // fingerprint registered at enrolment, exactly what a tampered SDP looks like.
    ManagedProcess two = agents.get("agent-two");
    long onlineBefore = two.countLines("online at node node-1");
    two.close();
    Path state = work.resolve("agents").resolve("agent-two");
    try (Stream<Path> files = Files.list(state)) {
      for (Path f : files.filter(p -> p.getFileName().toString().startsWith("dtls")).toList()) {
        Files.delete(f);
      }
    }
    startAgent("agent-two", TestNetwork.AGENT_2, TestNetwork.HUB, null);
    agents
        .get("agent-two")
        .awaitLine("online at node node-1", (int) onlineBefore, Duration.ofSeconds(60));
    JsonNode probe = probe("agent-two", "auto", 0);
    assertThat(probe.get("ok").asBoolean()).as(probe.toString()).isFalse();
    assertThat(probe.get("error").asString()).containsIgnoringCase("fingerprint");
  }

  @Test
  @Order(10)
  void aRevokedAgentIsDisconnectedWithinTwoSecondsAndCannotComeBack() throws Exception {
    Agent one = agentNamed("agent-one");
    ManagedProcess process = agents.get("agent-one");
    Instant revoked = Instant.now();
    admin.agents().revokeAgent(one.getId()).block(CALL);
    int status = process.awaitExit(Duration.ofSeconds(2).plusMillis(500));
    assertThat(Duration.between(revoked, Instant.now())).isLessThan(Duration.ofMillis(2500));
    assertThat(status).as("the agent's exit status (3: revoked)").isEqualTo(3);
    assertThat(process.countLines("(?i)revoked")).isPositive();

    Agent after = admin.agents().getAgent(one.getId()).block(CALL);
    assertThat(after.getRevoked()).isTrue();
    assertThat(after.getOnline()).isFalse();
    assertThatThrownBy(() -> createSession("agent-one"))
        .isInstanceOfSatisfying(
            AirlockProblemException.class, e -> assertThat(e.status()).isEqualTo(404));

    // Started again with its old identity, it is refused at once.
    startAgent("agent-one", TestNetwork.AGENT_1, TestNetwork.HUB, null);
    assertThat(agents.get("agent-one").awaitExit(Duration.ofSeconds(30))).isEqualTo(3);
    assertThat(audit("agent.connect"))
        .anySatisfy(e -> assertThat(e.getOutcome().getValue()).isEqualTo("denied"));
    assertThat(audit("agent.revoke")).isNotEmpty();
  }

  @Test
  @Order(11)
  void agentsEnrolOverWssAndRefuseANodeTheyDoNotTrust() throws Exception {
    // A signal node with its own certificate (self-signed, as a private CA would issue).
    Path tls = work.resolve("tls");
    Files.createDirectories(tls);
    Path keystore = tls.resolve("node.p12");
    Path caFile = tls.resolve("node.pem");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    run(
        keytool,
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=localhost",
        "-ext",
        "SAN=dns:localhost,ip:127.0.0.1",
        "-validity",
        "2",
        "-storetype",
        "PKCS12",
        "-keystore",
        keystore.toString(),
        "-storepass",
        "changeit");
    run(
        keytool,
        "-exportcert",
        "-rfc",
        "-alias",
        "node",
        "-keystore",
        keystore.toString(),
        "-storepass",
        "changeit",
        "-file",
        caFile.toString());
    int port = PlatformProcess.freePort();
    ManagedProcess node =
        ManagedProcess.start(
            "node-tls",
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                signalJar().toString(),
                "--server.port=" + port,
                "--server.ssl.key-store=" + keystore,
                "--server.ssl.key-store-password=changeit",
                "--server.ssl.key-store-type=PKCS12",
                "--airlock.signal.node-id=node-tls",
                "--airlock.signal.tunnel.port=0",
                "--airlock.signal.public-url=wss://localhost:" + port,
                "--airlock.signal.admin-url=https://localhost:" + port,
                "--airlock.signal.platform-url=" + platform.baseUrl(),
                "--airlock.signal.platform-key-file=" + keyFile),
            work.resolve("node-tls.log"));
    toClose.add(node);
    node.awaitLine("Airlock signal node node-tls listening on wss://", 0, START);
    String token =
        admin
            .agents()
            .createJoinToken(new JoinTokenCreate().kind(AgentKind.NODE).maxUses(2))
            .block(CALL)
            .getToken();

    ManagedProcess trusting = startRootAgent("agent-tls", port, token, caFile);
    ManagedProcess wary = startRootAgent("agent-wary", port, token, null);
    trusting.awaitLine("online at node node-tls", 0, Duration.ofSeconds(60));
    wary.awaitLine("PKIX path building failed", 0, Duration.ofSeconds(30));
    Agent agent = agentNamed("agent-tls");
    assertThat(agent.getOnline()).isTrue();
    assertThat(agent.getSignalUrl()).isEqualTo("wss://localhost:" + port);
    assertThat(
            admin
                .agents()
                .listAgents(AgentKind.NODE, null, null, null, null)
                .block(CALL)
                .getItems())
        .extracting(Agent::getHostname)
        .as("the agent that does not trust the node never enrolled")
        .containsExactly("agent-tls");
    assertThat(wary.countLines("Enrolled as agent")).isZero();
    wary.close();
    trusting.close();
  }

  private ManagedProcess startRootAgent(String name, int port, String token, Path caFile)
      throws IOException {
    Path state = work.resolve("agents").resolve(name);
    Files.createDirectories(state);
    List<String> lines = new ArrayList<>();
    lines.add("signal-url = wss://localhost:" + port);
    lines.add("state-dir = " + state);
    lines.add("hostname = " + name);
    lines.add("join-token = " + token);
    if (caFile != null) {
      lines.add("ca-file = " + caFile);
    }
    Path config = state.resolve("agent.conf");
    Files.write(config, lines);
    ManagedProcess agent =
        ManagedProcess.start(
            name,
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                agentJar().toString(),
                "--config",
                config.toString()),
            work.resolve(name + ".log"));
    toClose.add(agent);
    return agent;
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as(String.join(" ", command) + "\n" + output).isZero();
  }

  // --- the rig ---------------------------------------------------------------------------

  private ManagedProcess startSignal(String nodeId, int port) throws Exception {
    ManagedProcess node =
        ManagedProcess.start(
            nodeId,
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                signalJar().toString(),
                "--server.port=" + port,
                "--airlock.signal.node-id=" + nodeId,
                "--airlock.signal.tunnel.port=0",
                "--airlock.signal.public-url=ws://" + TestNetwork.HUB + ":" + port,
                "--airlock.signal.admin-url=http://127.0.0.1:" + port,
                "--airlock.signal.platform-url=" + platform.baseUrl(),
                "--airlock.signal.platform-key-file=" + keyFile),
            work.resolve(nodeId + ".log"));
    toClose.add(node);
    node.awaitLine("Airlock signal node " + nodeId + " listening", 0, START);
    return node;
  }

  private void startAgent(String name, String netns, String hub, String joinTokenSecret)
      throws IOException {
    startAgent(name, netns, hub, joinTokenSecret, node1Port);
  }

  private void startAgent(
      String name, String netns, String hub, String joinTokenSecret, int nodePort)
      throws IOException {
    Path state = work.resolve("agents").resolve(name);
    Files.createDirectories(state);
    Path config = state.resolve("agent.conf");
    List<String> lines = new ArrayList<>();
    lines.add("signal-url = ws://" + hub + ":" + nodePort);
    lines.add("state-dir = " + state);
    lines.add("hostname = " + name);
    if (joinTokenSecret != null) {
      lines.add("join-token = " + joinTokenSecret);
    }
    Files.write(config, lines);
    agents.put(
        name,
        ManagedProcess.start(
            name,
            netns,
            List.of(
                ManagedProcess.java(),
                "-jar",
                agentJar().toString(),
                "--config",
                config.toString()),
            work.resolve(name + ".log")));
  }

  private JsonNode probe(String target, String transport, int holdSeconds) throws Exception {
    try (ManagedProcess probe = startProbe(target, transport, holdSeconds)) {
      var line = probe.awaitLine("^PROBE (\\{.*\\})$", 0, Duration.ofSeconds(90));
      return JSON.readTree(line.group(1));
    }
  }

  private ManagedProcess startProbe(String target, String transport, int holdSeconds)
      throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                ManagedProcess.java(),
                "-cp",
                System.getProperty("java.class.path"),
                ConnectProbe.class.getName(),
                directUrl,
                adminKey,
                target,
                transport,
                String.valueOf(ECHO_BYTES),
                String.valueOf(holdSeconds)));
    return ManagedProcess.start(
        "probe",
        TestNetwork.CLIENT,
        command,
        work.resolve("probe-" + target + "-" + System.nanoTime() + ".log"));
  }

  private SessionCreated createSession(String target) {
    return admin.sessions().createSession(new SessionCreate().target(target)).block(CALL);
  }

  private Session awaitEnded(UUID id) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(15);
    Session session = admin.sessions().getSession(id).block(CALL);
    while (session.getState() != SessionState.ENDED || session.getPath() == null) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("session " + id + " did not end with a path: " + session);
      }
      Thread.sleep(200);
      session = admin.sessions().getSession(id).block(CALL);
    }
    return session;
  }

  private Agent agentNamed(String name) {
    return admin.agents().listAgents(null, null, null, null, null).block(CALL).getItems().stream()
        .filter(a -> a.getName().equals(name))
        .findFirst()
        .orElseThrow();
  }

  private List<AuditEvent> audit(String action) {
    return admin
        .audit()
        .listAuditEvents(null, null, null, action, null, 500, null)
        .block(CALL)
        .getItems();
  }

  private static SignalMessage hello(String connectToken) {
    return new SignalMessage().type(MessageType.HELLO).protocol(1).connectToken(connectToken);
  }

  private String node1Url() {
    return "ws://127.0.0.1:" + node1Port + "/signal/v1/agent";
  }

  private String node1ClientUrl() {
    return "ws://127.0.0.1:" + node1Port + "/signal/v1/client";
  }

  private String node2Url() {
    return "ws://127.0.0.1:" + node2Port + "/signal/v1/agent";
  }

  private static void awaitFile(Path file) throws InterruptedException {
    Instant deadline = Instant.now().plusSeconds(30);
    while (!Files.isRegularFile(file) && Instant.now().isBefore(deadline)) {
      Thread.sleep(100);
    }
    assertThat(file).as("the local signal node's key file").isRegularFile();
  }

  private static Path specPath() {
    return Path.of(System.getProperty("airlock.spec")).toAbsolutePath();
  }

  private static Path signalJar() {
    return Path.of(System.getProperty("airlock.signal.jar")).toAbsolutePath();
  }

  private static Path agentJar() {
    return Path.of(System.getProperty("airlock.agent.jar")).toAbsolutePath();
  }
}
