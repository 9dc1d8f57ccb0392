package dev.airlock.peer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.onvoid.webrtc.media.FourCC;
import dev.onvoid.webrtc.media.video.CustomVideoSource;
import dev.onvoid.webrtc.media.video.NativeI420Buffer;
import dev.onvoid.webrtc.media.video.VideoBufferConverter;
import dev.onvoid.webrtc.media.video.VideoFrame;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The screen track of an answerer reaches an offerer that asked for video, pixels intact. */
class PeerLinkVideoTest {

  private static final int WIDTH = 640;
  private static final int HEIGHT = 360;

  @Test
  void framesPushedIntoTheAnswerersSourceArriveDecodedAtTheirSizeAndColour() throws Exception {
    WebRtcRuntime.loadNativeLibrary();
    CustomVideoSource source = new CustomVideoSource();
    AtomicBoolean pushing = new AtomicBoolean(true);
    Thread pusher = new Thread(() -> push(source, pushing), "test-pusher");
    PeerLink client = PeerLink.offerer(List.of(), null, List.of("echo"), true).block();
    PeerLink agent = PeerLink.answerer(List.of(), DtlsIdentity.generate(), source).block();
    try {
      client.localCandidates().subscribe(agent::addRemoteCandidate);
      agent.localCandidates().subscribe(client::addRemoteCandidate);
      String offer = client.createOffer().block(Duration.ofSeconds(10));
      assertThat(offer).contains("m=video").contains("a=recvonly");
      String answer = agent.answer(offer).block(Duration.ofSeconds(10));
      assertThat(agent.sendsVideo()).isTrue();
      assertThat(answer).contains("a=sendonly").contains(PeerLink.SCREEN_STREAM);
      client.acceptAnswer(answer).block(Duration.ofSeconds(10));
      pusher.start();

      PeerLink.ReceivedFrame frame =
          client
              .videoFrames(true)
              .filter(f -> f.width() == WIDTH)
              .skip(3)
              .blockFirst(Duration.ofSeconds(20));

      assertThat(frame.height()).isEqualTo(HEIGHT);
      int rgb = frame.rgb(WIDTH / 2, HEIGHT / 2);
      assertThat((rgb >> 16) & 0xff).as("red of %06x", rgb).isGreaterThan(200);
      assertThat((rgb >> 8) & 0xff).as("green of %06x", rgb).isLessThan(50);
      assertThat(rgb & 0xff).as("blue of %06x", rgb).isLessThan(50);

      // What an operator reads in the agent's log and a measuring client in the SDK.
      ScreenStats sent = agent.screenStats().block(Duration.ofSeconds(10));
      assertThat(sent.captured()).isPositive();
      assertThat(sent.sent()).isPositive().isLessThanOrEqualTo(sent.captured());
      assertThat(sent.width()).isEqualTo(WIDTH);
      assertThat(sent.height()).isEqualTo(HEIGHT);
      assertThat(sent.bytesSent()).isPositive();
      assertThat(sent.limitation()).isIn("none", "cpu", "bandwidth", "other");
      Map<String, Object> received = client.receivedVideoStats().block(Duration.ofSeconds(10));
      assertThat((Number) received.get("framesDecoded"))
          .satisfies(n -> assertThat(n.longValue()).isPositive());
      assertThat(client.screenStats().blockOptional(Duration.ofSeconds(10))).isEmpty();
      assertThat(agent.receivedVideoStats().blockOptional(Duration.ofSeconds(10))).isEmpty();
    } finally {
      pushing.set(false);
      pusher.join(2000);
      client.close().block(Duration.ofSeconds(10));
      agent.close().block(Duration.ofSeconds(10));
      source.dispose();
    }
  }

  @Test
  void anOfferWithoutVideoGetsNoScreen() {
    WebRtcRuntime.loadNativeLibrary();
    CustomVideoSource source = new CustomVideoSource();
    PeerLink client = PeerLink.offerer(List.of(), null, List.of("echo")).block();
    PeerLink agent = PeerLink.answerer(List.of(), DtlsIdentity.generate(), source).block();
    try {
      String answer =
          agent
              .answer(client.createOffer().block(Duration.ofSeconds(10)))
              .block(Duration.ofSeconds(10));
      assertThat(agent.sendsVideo()).isFalse();
      assertThat(answer).doesNotContain("m=video");
    } finally {
      client.close().block(Duration.ofSeconds(10));
      agent.close().block(Duration.ofSeconds(10));
      source.dispose();
    }
  }

  private static void push(CustomVideoSource source, AtomicBoolean pushing) {
    byte[] red = new byte[WIDTH * HEIGHT * 4];
    for (int i = 0; i < red.length; i += 4) {
      red[i + 2] = (byte) 0xff; // libyuv ARGB is B, G, R, A in memory
      red[i + 3] = (byte) 0xff;
    }
    while (pushing.get()) {
      NativeI420Buffer buffer = NativeI420Buffer.allocate(WIDTH, HEIGHT);
      try {
        VideoBufferConverter.convertToI420(red, buffer, FourCC.ARGB);
        VideoFrame frame = new VideoFrame(buffer, System.nanoTime());
        source.pushFrame(frame);
        frame.release();
        Thread.sleep(33);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
