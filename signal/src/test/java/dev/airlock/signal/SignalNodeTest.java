package dev.airlock.signal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.airlock.protocol.RelayFrame;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SdpType;
import dev.airlock.protocol.message.SignalMessage;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The running node, end to end over real sockets: agents and clients are reactor-netty WebSocket
 * peers, and the platform is {@link TestPlatform} on a real HTTP server.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class SignalNodeTest {

  static final TestPlatform platform = new TestPlatform();

  @LocalServerPort int port;

  @DynamicPropertySource
  static void settings(DynamicPropertyRegistry registry) {
    registry.add("airlock.signal.node-id", () -> TestPlatform.NODE);
    registry.add("airlock.signal.platform-url", platform::url);
    registry.add("airlock.signal.platform-key", () -> "alk_test");
    registry.add("airlock.signal.hello-timeout", () -> "1s");
  }

  @AfterAll
  static void stop() {
    platform.close();
  }

  private TestSocket agent(UUID id) {
    TestSocket agent = TestSocket.open("ws://localhost:" + port + "/signal/v1/agent");
    agent.send(new SignalMessage().type(MessageType.HELLO).protocol(1).proof(id.toString()));
    SignalMessage welcome = agent.message();
    assertThat(welcome.getType()).isEqualTo(MessageType.WELCOME);
    assertThat(welcome.getAgentId()).isEqualTo(id);
    assertThat(welcome.getNodeId()).isEqualTo(TestPlatform.NODE);
    assertThat(welcome.getHeartbeatSeconds()).isEqualTo(20);
    return agent;
  }

  private TestSocket client(String token) {
    return TestSocket.open("ws://localhost:" + port + "/signal/v1/client")
        .send(new SignalMessage().type(MessageType.HELLO).protocol(1).connectToken(token));
  }

  private static byte[] frame(UUID session, String channel, int payloadBytes) {
    byte[] payload = new byte[payloadBytes];
    Arrays.fill(payload, (byte) 7);
    ByteBuffer encoded = new RelayFrame(session, channel, ByteBuffer.wrap(payload)).encode();
    byte[] bytes = new byte[encoded.remaining()];
    encoded.get(bytes);
    return bytes;
  }

  @Test
  void aSocketWithoutHelloIsClosedWith4001() {
    TestSocket silent = TestSocket.open("ws://localhost:" + port + "/signal/v1/client");
    WebSocketCloseStatus status = silent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4001);
    assertThat(status.reasonText()).isEqualTo("no hello within 1 s");
  }

  @Test
  void signallingAndRelayFlowBetweenClientAndAgentAndTheEndIsReported() {
    UUID agentId = UUID.randomUUID();
    UUID sessionId = UUID.randomUUID();
    TestSocket agent = agent(agentId);
    TestSocket client = client(platform.connectToken(sessionId, agentId, c -> {}));

    SignalMessage open = agent.message();
    assertThat(open.getType()).isEqualTo(MessageType.SESSION_OPEN);
    assertThat(open.getSessionId()).isEqualTo(sessionId);
    assertThat(open.getMode()).isEqualTo(SignalMessage.ModeEnum.CONTROL);
    assertThat(open.getIceServers().get(0).getUrls()).containsExactly("stun:stun.example.com:3478");
    SignalMessage welcome = client.message();
    assertThat(welcome.getType()).isEqualTo(MessageType.WELCOME);
    assertThat(welcome.getSessionId()).isEqualTo(sessionId);

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

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> platform.sessionEnds.stream().anyMatch(e -> isFor(e, sessionId)));
    JsonNode end =
        platform.sessionEnds.stream().filter(e -> isFor(e, sessionId)).findFirst().orElseThrow();
    assertThat(end.get("path").asString()).isEqualTo("relay");
    assertThat(end.get("reason").asString()).isEqualTo("closed by the client");
    assertThat(end.get("bytesFromClient").asLong()).isEqualTo(100);
    assertThat(end.get("bytesFromAgent").asLong()).isEqualTo(60_000);
    assertThat(platform.sessionEnds.stream().filter(e -> isFor(e, sessionId))).hasSize(1);
  }

  private static boolean isFor(JsonNode end, UUID sessionId) {
    return end.get("sessionId").asString().equals(sessionId.toString());
  }

  @Test
  void aReplayedTokenIsClosedWith4409() {
    UUID agentId = UUID.randomUUID();
    agent(agentId);
    String token = platform.connectToken(UUID.randomUUID(), agentId, c -> {});
    TestSocket first = client(token);
    assertThat(first.message().getType()).isEqualTo(MessageType.WELCOME);
    WebSocketCloseStatus second = client(token).awaitClose(Duration.ofSeconds(5));
    assertThat(second.code()).isEqualTo(4409);
    assertThat(second.reasonText()).isEqualTo("connect token already used");
  }

  @Test
  void aTokenForAnotherNodeIsClosedWith4401() {
    WebSocketCloseStatus status =
        client(
                platform.connectToken(
                    UUID.randomUUID(), UUID.randomUUID(), c -> c.claim("nod", "x")))
            .awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4401);
    assertThat(status.reasonText()).startsWith("token is for node x");
  }

  @Test
  void anAgentNotHereIsClosedWith4404AndTheEndReported() {
    UUID sessionId = UUID.randomUUID();
    WebSocketCloseStatus status =
        client(platform.connectToken(sessionId, UUID.randomUUID(), c -> {}))
            .awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4404);
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> platform.sessionEnds.stream().anyMatch(e -> isFor(e, sessionId)));
  }

  @Test
  void relayFramesBeforeRelayAreAProtocolError() {
    UUID agentId = UUID.randomUUID();
    TestSocket agent = agent(agentId);
    UUID sessionId = UUID.randomUUID();
    TestSocket client = client(platform.connectToken(sessionId, agentId, c -> {}));
    client.message();
    agent.message();
    client.sendBinary(frame(sessionId, "input", 10));
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4000);
    assertThat(status.reasonText()).startsWith("relay frame before relay");
    assertThat(agent.message().getType()).isEqualTo(MessageType.SESSION_CLOSE);
  }

  @Test
  void aTextMessageOver64KiBIsClosedWith1009() {
    TestSocket client = TestSocket.open("ws://localhost:" + port + "/signal/v1/client");
    String hello = "{\"type\":\"hello\",\"connectToken\":\"\"}";
    client.sendText(hello.replace("\"\"}", "\"" + "x".repeat(65_600 - hello.length()) + "\"}"));
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(1009);
    assertThat(status.reasonText())
        .isEqualTo("text message of 65600 bytes (expected: at most 65536)");
  }

  @Test
  void aFrameOverTheRelayFrameLimitIsClosedWith1009ByReactorNetty() {
    TestSocket client = TestSocket.open("ws://localhost:" + port + "/signal/v1/client");
    client.sendBinary(new byte[RelayFrame.MAX_FRAME + 1]);
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(1009);
    assertThat(status.reasonText()).isEqualTo("Max frame length of 65618 has been exceeded.");
  }

  @Test
  void badJsonIsClosedWith4000() {
    TestSocket client = TestSocket.open("ws://localhost:" + port + "/signal/v1/client");
    client.sendText("{\"type\":\"launch\"}");
    WebSocketCloseStatus status = client.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4000);
    assertThat(status.reasonText()).startsWith("not a signal message");
  }

  @Test
  void aRevokedAgentIsClosedWith4403() {
    TestSocket agent = TestSocket.open("ws://localhost:" + port + "/signal/v1/agent");
    agent.send(new SignalMessage().type(MessageType.HELLO).proof("revoked"));
    WebSocketCloseStatus status = agent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4403);
  }

  @Test
  void aBadJoinTokenIsClosedWith4401() {
    TestSocket agent = TestSocket.open("ws://localhost:" + port + "/signal/v1/agent");
    agent.send(
        new SignalMessage()
            .type(MessageType.HELLO)
            .enrol(
                new dev.airlock.protocol.message.Enrolment()
                    .joinToken("alj_bad")
                    .publicKey("{}")
                    .dtlsFingerprint("sha-256 00")
                    .hostname("h")));
    WebSocketCloseStatus status = agent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4401);
    assertThat(status.reasonText()).startsWith("join token refused");
  }

  @Test
  void aNewerConnectionOfTheSameAgentReplacesTheOlder() {
    UUID agentId = UUID.randomUUID();
    TestSocket old = agent(agentId);
    agent(agentId);
    WebSocketCloseStatus status = old.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(1000);
    assertThat(status.reasonText()).isEqualTo("replaced by a newer connection");
  }

  @Test
  void theAdminApiKicksAnAgentOnlyWithAPlatformTokenForThisNode() throws Exception {
    UUID agentId = UUID.randomUUID();
    TestSocket agent = agent(agentId);
    String url = "http://localhost:" + port + "/signal/v1/admin/agents/" + agentId;
    HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> refused =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .DELETE()
                .header("Authorization", "Bearer " + platform.adminToken(c -> c.claim("nod", "y")))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(refused.statusCode()).isEqualTo(401);
    assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(refused.body()).contains("admin token is for node y");

    HttpResponse<String> kicked =
        http.send(
            HttpRequest.newBuilder(URI.create(url))
                .DELETE()
                .header("Authorization", "Bearer " + platform.adminToken(c -> {}))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(kicked.statusCode()).isEqualTo(204);
    WebSocketCloseStatus status = agent.awaitClose(Duration.ofSeconds(5));
    assertThat(status.code()).isEqualTo(4403);
    assertThat(status.reasonText()).isEqualTo("agent revoked");
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> platform.disconnects.contains(agentId.toString()));
  }

  @Test
  void healthCountsAndAPlainGetOnASocketPathGets426() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> health =
        http.send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/signal/v1/health"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"UP\"").contains("\"nodeId\":\"node-a\"");
    HttpResponse<String> plain =
        http.send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/signal/v1/client"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(plain.statusCode()).isEqualTo(426);
    assertThat(platform.registrations.get()).isPositive();
  }
}
