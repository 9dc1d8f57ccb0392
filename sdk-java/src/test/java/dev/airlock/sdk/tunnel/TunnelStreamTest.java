package dev.airlock.sdk.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * {@code AirlockClient.tunnel} against a fake platform and signal node on loopback: the session it
 * asks for, the handshake, bytes both ways, flow control, and how each ending is reported.
 */
class TunnelStreamTest {

  private static final Duration WAIT = Duration.ofSeconds(20);

  private final FakeSignalNode node = new FakeSignalNode();
  private final AirlockClient airlock =
      AirlockClient.builder().baseUrl(node.baseUrl()).build().withApiKey("alk_test");

  @AfterEach
  void stop() {
    node.close();
  }

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static byte[] readAll(Flux<ByteBuffer> bytes, int expected) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    AtomicLong seen = new AtomicLong();
    bytes
        .doOnNext(
            chunk -> {
              byte[] copy = new byte[chunk.remaining()];
              chunk.get(copy);
              all.writeBytes(copy);
            })
        .takeUntil(chunk -> seen.addAndGet(chunk.limit()) >= expected)
        .blockLast(WAIT);
    return all.toByteArray();
  }

  /** Waits for what the node records: it may still be reading when the client sees the close. */
  private static void eventually(Runnable assertion) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError notYet) {
        if (System.nanoTime() > deadline) {
          throw notYet;
        }
        Thread.sleep(20);
      }
    }
  }

  private static Mono<Void> echo(FakeSignalNode.Client client) {
    return client
        .welcome()
        .then(
            client
                .out
                .sendObject(
                    client.fromClient.map(b -> new BinaryWebSocketFrame(Unpooled.wrappedBuffer(b))))
                .then());
  }

  @Test
  void opensATunnelSessionAndCarriesBytesBothWaysIntactInFramesOfAtMost64KiB() {
    node.script(TunnelStreamTest::echo);
    byte[] sent = random(1024 * 1024 + 3);

    TunnelStream stream = airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT);
    stream.send(Mono.just(ByteBuffer.wrap(sent))).block(WAIT);
    byte[] back = readAll(stream.receive(), sent.length);

    assertThat(back).isEqualTo(sent);
    assertThat(stream.sessionId()).isEqualTo(FakeSignalNode.SESSION);
    assertThat(stream.node()).isEqualTo("edge-1");
    assertThat(stream.target()).isEqualTo("ssh");
    assertThat(node.sessionRequests).hasSize(1);
    assertThat(node.sessionRequests.get(0))
        .contains(
            "\"target\":\"edge-1\"",
            "\"mode\":\"tunnel\"",
            "\"tunnelTarget\":\"ssh\"",
            "\"login\":\"deploy\"");
    assertThat(node.subprotocols).containsExactly("airlock.signal.v1");
    SignalMessage hello = node.messages.get(0);
    assertThat(hello.getType()).isEqualTo(MessageType.HELLO);
    assertThat(hello.getProtocol()).isEqualTo(1);
    assertThat(hello.getConnectToken()).isEqualTo(FakeSignalNode.CONNECT_TOKEN);
    assertThat(node.received()).isEqualTo(sent);
    assertThat(node.frameSizes).allMatch(size -> size > 0 && size <= 64 * 1024).contains(65536);
  }

  @Test
  void whatTheTargetSaysFirstWaitsForALateReaderAndATargetThatClosesEndsTheStreamNormally()
      throws InterruptedException {
    byte[] banner = "SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII);
    node.script(
        client ->
            client
                .welcome()
                .then(client.send(banner))
                .then(client.close(1000, "target closed the connection")));

    TunnelStream stream = airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT);
    TunnelStream.Ending ending = stream.closed().block(WAIT);

    assertThat(ending.normal()).isTrue();
    assertThat(ending.reason()).isEqualTo("target closed the connection");
    StepVerifier.create(stream.receive())
        .expectNext(ByteBuffer.wrap(banner))
        .expectComplete()
        .verify(WAIT);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "4502|connection refused|node edge-1 cannot reach ssh: connection refused (close 4502)",
        "4404|agent not connected to this node|node edge-1 is not connected to the signal node the"
            + " platform named: agent not connected to this node (close 4404); it may have just"
            + " reconnected: retry",
        "4409|token already used|the connect token for ssh on node edge-1 was already used: token"
            + " already used (close 4409); retry for a new one",
        "4401|token expired|the signal node refused the connect token for ssh on node edge-1: token"
            + " expired (close 4401); retry",
        "4410|terminated|the platform terminated the session to ssh on node edge-1: terminated"
            + " (close 4410)",
        "1000|agent disconnected|the signal node ended the session to ssh on node edge-1 before the"
            + " stream was open: agent disconnected (close 1000)",
      })
  void aRefusalBeforeWelcomeSaysWhyWithTheNodesReason(int code, String reason, String message) {
    node.script(client -> client.close(code, reason));

    assertThatThrownBy(() -> airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT))
        .isInstanceOfSatisfying(
            TunnelException.class,
            refused -> {
              assertThat(refused.closeCode()).isEqualTo(code);
              assertThat(refused.reason()).isEqualTo(reason);
              assertThat(refused.targetUnreachable()).isEqualTo(code == 4502);
              assertThat(refused.getMessage()).startsWith(message);
            });
  }

  @Test
  void aPlatformRefusalIsTheProblemAndNoSocketIsOpened() {
    node.sessionProblem(
        body ->
            """
            {"type":"urn:airlock:problem:tunnel-target-unknown","title":"Tunnel target unknown",
             "status":404,"detail":"node edge-1 does not expose app:wiki"}""");

    assertThatThrownBy(() -> airlock.tunnel("edge-1", "app:wiki", null).block(WAIT))
        .isInstanceOfSatisfying(
            AirlockProblemException.class,
            problem -> {
              assertThat(problem.problemType())
                  .isEqualTo("urn:airlock:problem:tunnel-target-unknown");
              assertThat(problem.detail()).isEqualTo("node edge-1 does not expose app:wiki");
            });
    assertThat(node.sessionRequests.get(0)).doesNotContain("login");
    assertThat(node.messages).isEmpty();
  }

  @Test
  void noWelcomeInTimeFailsSayingSo() {
    node.script(client -> Mono.never());

    assertThatThrownBy(
            () -> airlock.tunnel("edge-1", "tcp:5432", null, Duration.ofSeconds(1)).block(WAIT))
        .isInstanceOfSatisfying(
            TunnelException.class,
            late -> {
              assertThat(late.closeCode()).isZero();
              assertThat(late.getMessage())
                  .isEqualTo(
                      "no welcome from the signal node within 1 s: node edge-1 did not open the"
                          + " stream to tcp:5432 in time");
            });
  }

  @Test
  void anUnreachableSignalNodeSaysWhere() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    String url = "ws://127.0.0.1:" + closed + "/signal/v1/client";
    node.signalUrl(url);

    assertThatThrownBy(() -> airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT))
        .isInstanceOfSatisfying(
            TunnelException.class,
            unreachable -> {
              assertThat(unreachable.closeCode()).isZero();
              assertThat(unreachable.getMessage())
                  .startsWith(
                      "cannot reach the signal node at "
                          + url
                          + " (tunnel to ssh on node edge-1): ")
                  .contains("onnection refused");
            });
  }

  @Test
  void aStreamCutMidwayFailsItsReaderAfterTheBytesThatCameBefore() {
    node.script(
        client ->
            client
                .welcome()
                .then(client.send("partial".getBytes(StandardCharsets.US_ASCII)))
                .then(client.close(4410, "terminated by admin")));

    TunnelStream stream = airlock.tunnel("edge-1", "app:wiki", null).block(WAIT);

    StepVerifier.create(stream.receive())
        .expectNext(ByteBuffer.wrap("partial".getBytes(StandardCharsets.US_ASCII)))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfSatisfying(
                        TunnelException.class,
                        cut -> {
                          assertThat(cut.terminated()).isTrue();
                          assertThat(cut.getMessage())
                              .isEqualTo(
                                  "the platform terminated the session to app:wiki on node edge-1:"
                                      + " terminated by admin (close 4410)");
                        }))
        .verify(WAIT);
    assertThat(stream.closed().block(WAIT).code()).isEqualTo(4410);
  }

  @Test
  void aLostTargetMidStreamSaysTheNodeLostIt() {
    node.script(client -> client.welcome().then(client.close(4502, "connection reset")));

    TunnelStream stream = airlock.tunnel("edge-1", "tcp:6443", null).block(WAIT);

    StepVerifier.create(stream.receive())
        .expectErrorMessage(
            "node edge-1 lost the connection to tcp:6443: connection reset (close 4502)")
        .verify(WAIT);
  }

  @Test
  void closeSendsWhatWasQueuedThenTellsTheNodeAndEndsNormally() throws InterruptedException {
    TunnelStream stream = airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT);

    stream
        .send(
            Flux.just("see ", "you").map(s -> ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8))))
        .then(stream.close())
        .block(WAIT);

    eventually(
        () -> {
          assertThat(new String(node.received(), StandardCharsets.UTF_8)).isEqualTo("see you");
          assertThat(node.messages)
              .extracting(SignalMessage::getType)
              .containsExactly(MessageType.HELLO, MessageType.SESSION_CLOSE);
        });
    assertThat(stream.isOpen()).isFalse();
    assertThat(stream.closed().block(WAIT).normal()).isTrue();
    StepVerifier.create(stream.receive()).expectComplete().verify(WAIT);
    StepVerifier.create(stream.send(Mono.just(ByteBuffer.wrap(new byte[] {1}))))
        .expectError(IllegalStateException.class)
        .verify(WAIT);
    // Idempotent.
    stream.close().block(WAIT);
  }

  @Test
  void aPublisherThatFailsFailsItsOwnSendOnly() throws InterruptedException {
    TunnelStream stream = airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT);

    StepVerifier.create(stream.send(Flux.error(new IOException("local read failed"))))
        .expectErrorMessage("local read failed")
        .verify(WAIT);
    stream
        .send(Mono.just(ByteBuffer.wrap("still here".getBytes(StandardCharsets.UTF_8))))
        .then(stream.close())
        .block(WAIT);

    eventually(
        () -> {
          assertThat(new String(node.received(), StandardCharsets.UTF_8)).isEqualTo("still here");
          assertThat(node.messages)
              .extracting(SignalMessage::getType)
              .containsExactly(MessageType.HELLO, MessageType.SESSION_CLOSE);
        });
  }

  @Test
  void cancellingTheReaderClosesTheStream() {
    TunnelStream stream = airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT);

    stream.receive().subscribe().dispose();

    assertThat(stream.closed().block(WAIT).normal()).isTrue();
  }

  @Test
  void theBytesHaveOneReader() {
    TunnelStream stream = airlock.tunnel("edge-1", "ssh", "deploy").block(WAIT);
    stream.receive().subscribe();

    StepVerifier.create(stream.receive())
        .expectErrorMessage("receive: already subscribed (expected: one subscriber per stream)")
        .verify(WAIT);
    stream.close().block(WAIT);
  }

  @Test
  void aReaderThatDoesNotReadHoldsTheTargetBackInsteadOfBufferingEverything()
      throws InterruptedException {
    int frames = 1024;
    byte[] chunk = random(64 * 1024);
    AtomicLong produced = new AtomicLong();
    node.script(
        client ->
            client
                .welcome()
                .then(
                    client
                        .out
                        .sendObject(
                            Flux.range(0, frames)
                                .map(
                                    i -> {
                                      produced.addAndGet(chunk.length);
                                      return new BinaryWebSocketFrame(
                                          Unpooled.wrappedBuffer(chunk));
                                    }))
                        .then())
                .then(client.close(1000, "target closed the connection")));

    TunnelStream stream = airlock.tunnel("edge-1", "tcp:9000", null).block(WAIT);
    Thread.sleep(2000);
    long beforeReading = produced.get();
    long total = stream.receive().map(ByteBuffer::remaining).reduce(0L, Long::sum).block(WAIT);

    // 64 MiB would pass on loopback in well under the pause: what passed is what the buffers on
    // the way hold (the node's send queue, both sockets, the read-ahead).
    assertThat(beforeReading).isLessThan(32L * 1024 * 1024);
    assertThat(total).isEqualTo((long) frames * chunk.length);
  }
}
