package dev.airlock.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Two peers in one JVM over the host's own address (libwebrtc ignores loopback, so this needs a
 * network interface with an address; the contract tests cover separate network namespaces).
 */
class PeerLinkTest {

  @Test
  void bytesSentOnAChannelArriveIntactAndTheAnswerCarriesThePinnedFingerprint() {
    DtlsIdentity agentIdentity = DtlsIdentity.generate();
    PeerLink client = PeerLink.offerer(List.of(), null, List.of("echo")).block();
    PeerLink agent = PeerLink.answerer(List.of(), agentIdentity).block();
    try {
      client.localCandidates().subscribe(agent::addRemoteCandidate);
      agent.localCandidates().subscribe(client::addRemoteCandidate);
      agent
          .remotelyOpened()
          .subscribe(channel -> channel.messages().concatMap(channel::send).subscribe());

      String offer = client.createOffer().block(Duration.ofSeconds(10));
      String answer = agent.answer(offer).block(Duration.ofSeconds(10));
      assertThat(Sdp.fingerprint(answer)).isEqualTo(agentIdentity.fingerprint());
      client.acceptAnswer(answer).block(Duration.ofSeconds(10));
      client.connected().block(Duration.ofSeconds(15));

      Channel echo = client.channel("echo");
      byte[] payload = new byte[3 * Channel.MAX_MESSAGE + 123];
      new Random(7).nextBytes(payload);
      byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
      Flux.concat(echo.send(ByteBuffer.wrap(hello)), echo.send(ByteBuffer.wrap(payload)))
          .subscribe();
      List<ByteBuffer> received =
          echo.messages().take(5).collectList().block(Duration.ofSeconds(15));

      ByteBuffer all = ByteBuffer.allocate(hello.length + payload.length);
      received.forEach(all::put);
      assertThat(all.array()).startsWith(hello).endsWith(payload);
      assertThat(client.bytesOut()).isEqualTo(hello.length + payload.length);
      assertThat(agent.bytesIn()).isEqualTo(hello.length + payload.length);
    } finally {
      client.close().block(Duration.ofSeconds(10));
      agent.close().block(Duration.ofSeconds(10));
    }
  }
}
