package dev.airlock.signal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.RelayFrame;
import dev.airlock.protocol.TunnelWire;
import dev.airlock.protocol.message.Enrolment;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SdpType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentEnrolment;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.JoinTokenCreate;
import dev.airlock.sdk.model.PasswordChange;
import dev.airlock.sdk.model.Session;
import dev.airlock.sdk.model.SessionCreate;
import dev.airlock.sdk.model.SessionCreated;
import dev.airlock.sdk.model.SessionPath;
import dev.airlock.sdk.model.SessionState;
import dev.airlock.sdk.model.SignalNode;
import dev.airlock.sdk.model.SignalNodeRegistration;
import dev.airlock.signal.tunnel.TunnelServer;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.http.HttpProtocol;
import reactor.netty.resources.ConnectionProvider;

/**
 * The running node, end to end over real sockets, against the real platform: its boot jar runs as a
 * process on a fresh database on the test MariaDB (one platform for the whole class), and this node
 * runs in-process with the signal-node key the platform wrote to its data directory. Agents are
 * synthetic (their own EC key, enrolled with a real join token, reconnecting with signed proofs);
 * clients get their connect tokens from {@code POST /api/v1/sessions}; revocation, session ends and
 * refusals are checked on the platform itself.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OutputCaptureExtension.class)
class SignalNodeTest {

  static final String NODE = "node-a";
  private static final Duration CALL = Duration.ofSeconds(30);
  private static final String STUN = "stun:stun.example.com:3478";
  private static final String ADMIN_PASSWORD = "signal node test admin password";

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private TestDatabase database;
  private PlatformProcess platform;
  private ConfigurableApplicationContext signal;
  private AirlockClient admin;
  private AirlockClient signalNodeKey;
  private String accessToken;
  private String joinToken;
  private int port;

  @BeforeAll
  void startEverything() throws Exception {
    Path jar = PlatformProcess.jar();
    Path work =
        Path.of(System.getProperty("airlock.signal.test.work.dir", "target/signal-node-test"))
            .toAbsolutePath()
            .resolve("run-" + System.currentTimeMillis());
    Files.createDirectories(work);
    database = TestDatabase.fresh("airlock_sig_");
    database.requireReachable();
    platform =
        PlatformProcess.start(
            jar,
            PlatformProcess.freePort(),
            database,
            work.resolve("platform-data"),
            work.resolve("platform.log"),
            List.of("--airlock.ice.stun-urls=" + STUN));
    toClose.add(platform);
    platform.awaitHealthy(Duration.ofSeconds(120));

    String oneTime = platform.initialAdminPassword(Duration.ofSeconds(20));
    admin = AirlockClient.builder().baseUrl(platform.baseUrl().toString()).build();
    admin.login("admin", oneTime).block(CALL);
    admin
        .auth()
        .changePassword(new PasswordChange().currentPassword(oneTime).newPassword(ADMIN_PASSWORD))
        .block(CALL);
    accessToken = admin.login("admin", ADMIN_PASSWORD).block(CALL).getAccessToken();
    platform.dataFile(PlatformProcess.SIGNAL_NODE_KEY_FILE, Duration.ofSeconds(20));
    Path keyFile = platform.dataDir().resolve(PlatformProcess.SIGNAL_NODE_KEY_FILE);
    signalNodeKey =
        AirlockClient.builder()
            .baseUrl(platform.baseUrl().toString())
            .build()
            .withApiKey(Files.readString(keyFile).strip());
    joinToken =
        admin
            .agents()
            .createJoinToken(
                new JoinTokenCreate()
                    .kind(AgentKind.DESKTOP)
                    .maxUses(1000)
                    .description("SignalNodeTest"))
            .block(CALL)
            .getToken();

    port = PlatformProcess.freePort();
    signal =
        new SpringApplicationBuilder(AirlockSignalApplication.class)
            .run(
                "--server.port=" + port,
                "--airlock.signal.node-id=" + NODE,
                "--airlock.signal.tunnel.port=0",
                "--airlock.signal.public-url=ws://127.0.0.1:" + port,
                "--airlock.signal.admin-url=http://127.0.0.1:" + port,
                "--airlock.signal.platform-url=" + platform.baseUrl(),
                "--airlock.signal.platform-key-file=" + keyFile,
                "--airlock.signal.hello-timeout=1s");
    // Sessions need the agent's node registered and alive at the platform.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> node(NODE) != null && Boolean.TRUE.equals(node(NODE).getOnline()));
  }

  @AfterAll
  void stopEverything() throws Exception {
    // The node first: it reports its last session ends to the platform as it stops.
    if (signal != null) {
      signal.close();
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
  }

  // --- agents, clients, the platform ----------------------------------------------------------

  private TestSocket socket(String path) {
    return TestSocket.open("ws://127.0.0.1:" + port + "/signal/v1/" + path);
  }

  /** Enrols a new agent with the join token and returns its socket, welcomed. */
  private TestSocket enrol(TestAgent agent) {
    TestSocket socket = socket("agent");
    socket.send(
        new SignalMessage().type(MessageType.HELLO).protocol(1).enrol(agent.enrolment(joinToken)));
    agent.id = welcomed(socket).getAgentId();
    assertThat(agent.id).isNotNull();
    return socket;
  }

  /** Reconnects an enrolled agent with a fresh proof and returns its socket, welcomed. */
  private TestSocket reconnect(TestAgent agent) {
    TestSocket socket = socket("agent");
    socket.send(new SignalMessage().type(MessageType.HELLO).protocol(1).proof(agent.proof()));
    assertThat(welcomed(socket).getAgentId()).isEqualTo(agent.id);
    return socket;
  }

  private static SignalMessage welcomed(TestSocket socket) {
    SignalMessage welcome = socket.message();
    assertThat(welcome.getType()).as("%s", welcome).isEqualTo(MessageType.WELCOME);
    assertThat(welcome.getNodeId()).isEqualTo(NODE);
    assertThat(welcome.getHeartbeatSeconds()).isEqualTo(20);
    return welcome;
  }

  private TestSocket client(String token) {
    return socket("client")
        .send(new SignalMessage().type(MessageType.HELLO).protocol(1).connectToken(token));
  }

  private SessionCreated createSession(TestAgent agent) {
    SessionCreated created =
        admin.sessions().createSession(new SessionCreate().target(agent.hostname)).block(CALL);
    assertThat(created.getAgentId()).isEqualTo(agent.id);
    return created;
  }

  private Session awaitEnded(UUID sessionId) {
    return await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> admin.sessions().getSession(sessionId).block(CALL),
            s -> s.getState() == SessionState.ENDED);
  }

  private Agent platformAgent(UUID id) {
    return admin.agents().getAgent(id).block(CALL);
  }

  private SignalNode node(String id) {
    return admin.signalNodes().listSignalNodes().collectList().block(CALL).stream()
        .filter(n -> n.getId().equals(id))
        .findFirst()
        .orElse(null);
  }

  private List<AuditEvent> audit(String action) {
    return admin
        .audit()
        .listAuditEvents(null, null, null, action, null, 500, null)
        .block(CALL)
        .getItems();
  }

  private AuditEvent awaitAudit(String action, UUID sessionId) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      List<AuditEvent> found =
          audit(action).stream()
              .filter(e -> e.getTarget() != null && e.getTarget().contains(sessionId.toString()))
              .toList();
      if (!found.isEmpty() || System.nanoTime() > deadline) {
        assertThat(found).as(action + " of session " + sessionId).hasSize(1);
        return found.get(0);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  private static byte[] frame(UUID session, String channel, int payloadBytes) {
    byte[] payload = new byte[payloadBytes];
    Arrays.fill(payload, (byte) 7);
    ByteBuffer encoded = new RelayFrame(session, channel, ByteBuffer.wrap(payload)).encode();
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);
    return bytes;
  }

  // --- the tests -------------------------------------------------------------------------------

  @Test
  void aSocketWithoutHelloIsClosedWith4001() {
    TestSocket silent = socket("client");
    WebSocketCloseStatus status = silent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4001);
    assertThat(status.reasonText()).isEqualTo("no hello within 1 s");
  }

  @Test
  void anEnrolledAgentIsOnlineAtThisNodeAndComesBackWithItsProof() {
    TestAgent desk = new TestAgent();
    TestSocket first = enrol(desk);
    Agent enrolled = platformAgent(desk.id);
    assertThat(enrolled.getHostname()).isEqualTo(desk.hostname);
    assertThat(enrolled.getDtlsFingerprint()).isEqualTo(desk.dtlsFingerprint);
    assertThat(enrolled.getOnline()).isTrue();
    assertThat(enrolled.getSignalNodeId()).isEqualTo(NODE);

    first.close();
    first.awaitClose(Duration.ofSeconds(5));
    await().atMost(Duration.ofSeconds(5)).until(() -> !platformAgent(desk.id).getOnline());
    reconnect(desk);
    await().atMost(Duration.ofSeconds(5)).until(() -> platformAgent(desk.id).getOnline());

    // A proof signed with another key is refused by the platform.
    TestSocket forged = socket("agent");
    forged.send(
        new SignalMessage()
            .type(MessageType.HELLO)
            .protocol(1)
            .proof(desk.proof(TestAgent.generate())));
    WebSocketCloseStatus status = forged.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4401);
    assertThat(status.reasonText()).startsWith("identity proof refused");
  }

  @Test
  void signallingAndRelayFlowBetweenClientAndAgentAndTheEndIsReported(CapturedOutput output) {
    TestAgent desk = new TestAgent();
    TestSocket agent = enrol(desk);
    SessionCreated created = createSession(desk);
    UUID sessionId = created.getId();
    assertThat(created.getSignalUrl()).startsWith("ws://127.0.0.1:" + port);
    TestSocket client = client(created.getConnectToken());

    SignalMessage open = agent.message();
    assertThat(open.getType()).isEqualTo(MessageType.SESSION_OPEN);
    assertThat(open.getSessionId()).isEqualTo(sessionId);
    assertThat(open.getMode()).isEqualTo(SignalMessage.ModeEnum.CONTROL);
    assertThat(open.getIceServers().get(0).getUrls()).containsExactly(STUN);
    // What the agent enforces: who connects, the clipboard policy (a desktop: both), idle, consent.
    assertThat(open.getUsername()).isEqualTo("admin");
    assertThat(open.getClipboard()).isEqualTo(SignalMessage.ClipboardEnum.BOTH);
    assertThat(open.getIdleSeconds()).isEqualTo(900);
    assertThat(open.getConsentSeconds()).isEqualTo(30);
    SignalMessage welcome = client.message();
    assertThat(welcome.getType()).isEqualTo(MessageType.WELCOME);
    assertThat(welcome.getSessionId()).isEqualTo(sessionId);
    assertThat(admin.sessions().getSession(sessionId).block(CALL).getState())
        .isEqualTo(SessionState.ACTIVE);

    // The client's sessionId is overwritten with its own session.
    client.send(
        new SignalMessage()
            .type(MessageType.SDP)
            .sessionId(UUID.randomUUID())
            .sdpType(SdpType.OFFER)
            .sdp("v=0 offer"));
    SignalMessage offer = agent.message();
    assertThat(offer.getSessionId()).isEqualTo(sessionId);
    assertThat(offer.getSdp()).isEqualTo("v=0 offer");

    agent.send(
        new SignalMessage()
            .type(MessageType.SDP)
            .sessionId(sessionId)
            .sdpType(SdpType.ANSWER)
            .sdp("v=0 answer"));
    assertThat(client.message().getSdp()).isEqualTo("v=0 answer");

    UUID stranger = UUID.randomUUID();
    agent.send(new SignalMessage().type(MessageType.ICE).sessionId(stranger).candidate("c"));
    SignalMessage error = agent.message();
    assertThat(error.getType()).isEqualTo(MessageType.ERROR);
    assertThat(error.getReason()).isEqualTo("unknown session " + stranger);

    // A clipboard transfer is audited with its size; another session's event is refused.
    agent.send(
        new SignalMessage()
            .type(MessageType.SESSION_EVENT)
            .sessionId(sessionId)
            .event(SignalMessage.EventEnum.CLIPBOARD_READ)
            .bytes(42L));
    agent.send(
        new SignalMessage()
            .type(MessageType.SESSION_EVENT)
            .sessionId(stranger)
            .event(SignalMessage.EventEnum.CLIPBOARD_WRITE)
            .bytes(7L));
    assertThat(agent.message().getReason()).isEqualTo("unknown session " + stranger);
    assertThat(awaitAudit("session.clipboard", sessionId))
        .satisfies(
            e -> {
              assertThat(e.getReason()).isEqualTo("clipboard.read, 42 bytes");
              assertThat(e.getActor()).isEqualTo("admin");
            });
    assertThat(audit("session.clipboard")).noneMatch(e -> e.getReason().contains("7 bytes"));

    client.send(new SignalMessage().type(MessageType.RELAY));
    SignalMessage relay = agent.message();
    assertThat(relay.getType()).isEqualTo(MessageType.RELAY);
    assertThat(relay.getSessionId()).isEqualTo(sessionId);

    byte[] up = frame(sessionId, "input", 100);
    client.sendBinary(up);
    assertThat(agent.binary()).isEqualTo(up);
    byte[] down = frame(sessionId, "video", 60_000);
    agent.sendBinary(down);
    assertThat(client.binary()).isEqualTo(down);

    client.send(new SignalMessage().type(MessageType.SESSION_CLOSE));
    SignalMessage close = agent.message();
    assertThat(close.getType()).isEqualTo(MessageType.SESSION_CLOSE);
    assertThat(close.getSessionId()).isEqualTo(sessionId);
    assertThat(client.message().getType()).isEqualTo(MessageType.SESSION_CLOSE);
    assertThat(client.awaitClose(Duration.ofSeconds(5)).code()).isEqualTo(1000);

    Session ended = awaitEnded(sessionId);
    assertThat(ended.getPath()).isEqualTo(SessionPath.RELAY);
    assertThat(ended.getEndReason()).isEqualTo("closed by the client");
    assertThat(ended.getBytesFromClient()).isEqualTo(100);
    assertThat(ended.getBytesFromAgent()).isEqualTo(60_000);
    assertThat(ended.getSignalNodeId()).isEqualTo(NODE);
    assertThat(audit("session.end"))
        .filteredOn(e -> e.getTarget() != null && e.getTarget().contains(sessionId.toString()))
        .singleElement()
        .satisfies(e -> assertThat(e.getReason()).contains("path relay"));
    // The node ended (and so reported) the session once, though both peers saw it close.
    assertThat(
            Pattern.compile("Session " + sessionId + " ended")
                .matcher(output.getOut())
                .results()
                .count())
        .isEqualTo(1);
  }

  @Test
  void aReplayedTokenIsClosedWith4409() {
    TestAgent desk = new TestAgent();
    enrol(desk);
    String token = createSession(desk).getConnectToken();
    TestSocket first = client(token);
    assertThat(first.message().getType()).isEqualTo(MessageType.WELCOME);
    WebSocketCloseStatus second = client(token).awaitClose(Duration.ofSeconds(5));
    assertThat(second.code()).isEqualTo(4409);
    assertThat(second.reasonText()).isEqualTo("connect token already used");
  }

  /**
   * A second node, registered with the same signal-node key and holding an agent the way a node
   * does (enrolment through the signal-node API), gets real tokens and admin tokens bound to it:
   * neither is accepted here. Its admin URL points at this node, so revoking its agent makes the
   * platform send this node an admin token for node-b, which it refuses and reports for audit.
   */
  @Test
  void credentialsForAnotherNodeAreRefused() {
    String other = "node-b";
    signalNodeKey
        .signalNodes()
        .registerSignalNode(
            other,
            new SignalNodeRegistration()
                .url("ws://127.0.0.1:" + port)
                .adminUrl("http://127.0.0.1:" + port))
        .block(CALL);
    TestAgent elsewhere = new TestAgent();
    Enrolment enrolment = elsewhere.enrolment(joinToken);
    Agent enrolled =
        signalNodeKey
            .signalNodes()
            .enrolAgent(
                other,
                new AgentEnrolment()
                    .joinToken(enrolment.getJoinToken())
                    .publicKey(enrolment.getPublicKey())
                    .dtlsFingerprint(enrolment.getDtlsFingerprint())
                    .hostname(enrolment.getHostname()))
            .block(CALL);
    elsewhere.id = enrolled.getId();
    SessionCreated created = createSession(elsewhere);
    assertThat(created.getSignalNodeId()).isEqualTo(other);

    WebSocketCloseStatus status =
        client(created.getConnectToken()).awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4401);
    assertThat(status.reasonText()).startsWith("token is for node node-b (this is node-a)");

    admin.agents().revokeAgent(elsewhere.id).block(CALL);
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () ->
                audit("signal_node.admin").stream()
                    .anyMatch(
                        e ->
                            e.getReason() != null
                                && e.getReason().contains("admin token is for node node-b")));
  }

  @Test
  void anAgentNotHereIsClosedWith4404AndTheEndReported() {
    TestAgent desk = new TestAgent();
    TestSocket agent = enrol(desk);
    SessionCreated created = createSession(desk);
    // The agent leaves between the session's creation and the client's arrival.
    agent.close();
    agent.awaitClose(Duration.ofSeconds(5));
    await().atMost(Duration.ofSeconds(5)).until(() -> !platformAgent(desk.id).getOnline());

    WebSocketCloseStatus status =
        client(created.getConnectToken()).awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4404);
    assertThat(status.reasonText()).isEqualTo("agent not connected to this node");
    Session ended = awaitEnded(created.getId());
    assertThat(ended.getEndReason()).isEqualTo("agent not connected to this node");
  }

  @Test
  void relayFramesBeforeRelayAreAProtocolError() {
    TestAgent desk = new TestAgent();
    TestSocket agent = enrol(desk);
    SessionCreated created = createSession(desk);
    TestSocket client = client(created.getConnectToken());
    client.message();
    agent.message();
    client.sendBinary(frame(created.getId(), "input", 10));
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4000);
    assertThat(status.reasonText()).startsWith("relay frame before relay");
    assertThat(agent.message().getType()).isEqualTo(MessageType.SESSION_CLOSE);
    assertThat(awaitEnded(created.getId()).getPath()).isNull();
  }

  @Test
  void aTextMessageOver64KiBIsClosedWith1009() {
    TestSocket client = socket("client");
    String hello = "{\"type\":\"hello\",\"connectToken\":\"\"}";
    client.sendText(hello.replace("\"\"}", "\"" + "x".repeat(65_600 - hello.length()) + "\"}"));
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(1009);
    assertThat(status.reasonText())
        .isEqualTo("text message of 65600 bytes (expected: at most 65536)");
  }

  @Test
  void aFrameOverTheRelayFrameLimitIsClosedWith1009ByReactorNetty() {
    TestSocket client = socket("client");
    client.sendBinary(new byte[RelayFrame.MAX_FRAME + 1]);
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(1009);
    assertThat(status.reasonText()).isEqualTo("Max frame length of 65618 has been exceeded.");
  }

  @Test
  void badJsonIsClosedWith4000() {
    TestSocket client = socket("client");
    client.sendText("{\"type\":\"launch\"}");
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4000);
    assertThat(status.reasonText()).startsWith("not a signal message");
  }

  @Test
  void aRevokedAgentIsClosedWith4403AndCannotComeBack() {
    TestAgent desk = new TestAgent();
    TestSocket agent = enrol(desk);
    admin.agents().revokeAgent(desk.id).block(CALL);
    WebSocketCloseStatus status = agent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4403);
    assertThat(status.reasonText()).isEqualTo("agent revoked");
    Agent revoked = platformAgent(desk.id);
    assertThat(revoked.getRevoked()).isTrue();
    assertThat(revoked.getOnline()).isFalse();

    TestSocket again = socket("agent");
    again.send(new SignalMessage().type(MessageType.HELLO).protocol(1).proof(desk.proof()));
    WebSocketCloseStatus refused = again.awaitClose(Duration.ofSeconds(5));
    assertThat(refused.code()).isEqualTo(4403);
    assertThat(refused.reasonText()).isEqualTo("agent revoked");
  }

  /** A signalling stream on a new HTTP/2 connection to this node's tunnel endpoint. */
  private SignalSocket controlStream() {
    String tunnelUrl = signal.getBean(TunnelServer.class).publicUrl();
    return SignalSocket.overStream(
            reactor.netty.http.client.HttpClient.create(ConnectionProvider.newConnection())
                .baseUrl(tunnelUrl)
                .protocol(HttpProtocol.H2C),
            TunnelWire.CONTROL_PATH)
        .block(CALL);
  }

  @Test
  void anAgentSignallingOnItsTunnelConnectionIsAdmittedAndRevokedAsOnTheWebSocket() {
    TestAgent desk = new TestAgent();
    SignalSocket control = controlStream();
    control.send(
        new SignalMessage().type(MessageType.HELLO).protocol(1).enrol(desk.enrolment(joinToken)));
    SignalMessage welcome = control.messages().blockFirst(CALL);
    assertThat(welcome.getType()).as("%s", welcome).isEqualTo(MessageType.WELCOME);
    assertThat(welcome.getNodeId()).isEqualTo(NODE);
    desk.id = welcome.getAgentId();
    assertThat(platformAgent(desk.id).getOnline()).isTrue();
    assertThat(platformAgent(desk.id).getSignalNodeId()).isEqualTo(NODE);

    admin.agents().revokeAgent(desk.id).block(CALL);
    SignalSocket.Closed closed = control.closed().block(Duration.ofSeconds(5));
    assertThat(closed).isEqualTo(new SignalSocket.Closed(4403, "agent revoked"));
    assertThat(platformAgent(desk.id).getOnline()).isFalse();
  }

  @Test
  void aSignallingStreamWithoutHelloIsClosedWith4001AndOneThatStopsIsOffline() {
    SignalSocket silent = controlStream();
    assertThat(silent.closed().block(Duration.ofSeconds(5)))
        .isEqualTo(new SignalSocket.Closed(4001, "no hello within 1 s"));

    // The agent ending its stream ends its presence, as closing its WebSocket does.
    TestAgent desk = new TestAgent();
    SignalSocket control = controlStream();
    control.send(
        new SignalMessage().type(MessageType.HELLO).protocol(1).enrol(desk.enrolment(joinToken)));
    desk.id = control.messages().blockFirst(CALL).getAgentId();
    assertThat(platformAgent(desk.id).getOnline()).isTrue();
    assertThat(control.close(1000, "agent stopping").block(CALL).code()).isEqualTo(1000);
    await().atMost(Duration.ofSeconds(5)).until(() -> !platformAgent(desk.id).getOnline());
  }

  @Test
  void aCloseWithoutACodeOnASignallingStreamIsAnsweredWithANormalClose() {
    // Kind 8 (close), length 0: no code, which a WebSocket close may also lack.
    byte[] answer =
        reactor.netty.http.client.HttpClient.create(ConnectionProvider.newConnection())
            .baseUrl(signal.getBean(TunnelServer.class).publicUrl())
            .protocol(HttpProtocol.H2C)
            .post()
            .uri(TunnelWire.CONTROL_PATH)
            .send(ByteBufFlux.fromInbound(Mono.just(new byte[] {8, 0, 0, 0, 0})))
            .responseSingle((response, body) -> body.asByteArray())
            .block(CALL);
    // Close, length 2, code 1000: not 1011, an internal error.
    assertThat(answer).containsExactly(8, 0, 0, 0, 2, 0x03, 0xE8);
  }

  @Test
  void aBadJoinTokenIsClosedWith4401() {
    TestSocket agent = socket("agent");
    agent.send(
        new SignalMessage()
            .type(MessageType.HELLO)
            .enrol(new TestAgent().enrolment("alj_" + "0".repeat(40))));
    WebSocketCloseStatus status = agent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4401);
    assertThat(status.reasonText()).startsWith("join token refused");
  }

  @Test
  void aNewerConnectionOfTheSameAgentReplacesTheOlder() {
    TestAgent desk = new TestAgent();
    TestSocket old = enrol(desk);
    reconnect(desk);
    WebSocketCloseStatus status = old.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(1000);
    assertThat(status.reasonText()).isEqualTo("replaced by a newer connection");
    // The older socket's close does not take the agent offline.
    assertThat(platformAgent(desk.id).getOnline()).isTrue();
  }

  @Test
  void theAdminApiRefusesRequestsWithoutAPlatformAdminToken() throws Exception {
    TestAgent desk = new TestAgent();
    TestSocket agent = enrol(desk);
    URI url = URI.create("http://127.0.0.1:" + port + "/signal/v1/admin/agents/" + desk.id);
    HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> bare =
        http.send(
            HttpRequest.newBuilder(url).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(bare.statusCode()).isEqualTo(401);
    assertThat(bare.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(bare.body()).contains("missing Authorization");

    // A real token signed by the platform, but a user's access token, not an admin token.
    HttpResponse<String> wrong =
        http.send(
            HttpRequest.newBuilder(url)
                .DELETE()
                .header("Authorization", "Bearer " + accessToken)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(wrong.body()).contains("expected: airlock-signal-admin");

    HttpResponse<String> garbage =
        http.send(
            HttpRequest.newBuilder(url)
                .DELETE()
                .header("Authorization", "Bearer not-a-jwt")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(garbage.statusCode()).isEqualTo(401);
    assertThat(garbage.body()).contains("malformed token");

    // None of them kicked the agent.
    assertThat(agent.closed).isNotDone();
    assertThat(platformAgent(desk.id).getOnline()).isTrue();
  }

  @Test
  void healthCountsAndAPlainGetOnASocketPathGets426() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/signal/v1/health"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body())
        .contains("\"status\":\"UP\"")
        .contains("\"nodeId\":\"node-a\"")
        .contains("\"tunnelUrl\":\"" + signal.getBean(TunnelServer.class).publicUrl() + "\"");
    HttpResponse<String> plain =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/signal/v1/client"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(plain.statusCode()).isEqualTo(426);
    SignalNode registered = node(NODE);
    assertThat(registered.getOnline()).isTrue();
    assertThat(registered.getUrl()).isEqualTo("ws://127.0.0.1:" + port);
  }
}
