package dev.airlock.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SdpType;
import dev.airlock.protocol.message.SignalMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RelayFrameTest {

  @Test
  void aFrameSurvivesTheRoundTripWithItsSessionLabelAndBytes() {
    UUID session = UUID.randomUUID();
    byte[] bytes = "hello, agent".getBytes(StandardCharsets.UTF_8);
    ByteBuffer wire = new RelayFrame(session, "échо", ByteBuffer.wrap(bytes)).encode();

    assertThat(RelayFrame.sessionOf(wire)).isEqualTo(session);
    RelayFrame back = RelayFrame.decode(wire);
    assertThat(back.sessionId()).isEqualTo(session);
    assertThat(back.channel()).isEqualTo("échо");
    byte[] payload = new byte[back.payload().remaining()];
    back.payload().get(payload);
    assertThat(payload).isEqualTo(bytes);
  }

  @Test
  void malformedFramesAreRefusedWithWhatWasExpected() {
    assertThatThrownBy(() -> RelayFrame.decode(ByteBuffer.wrap(new byte[5])))
        .isInstanceOf(ProtocolException.class)
        .hasMessageContaining("expected: at least 19");
    ByteBuffer wrongVersion =
        new RelayFrame(UUID.randomUUID(), "x", ByteBuffer.allocate(1)).encode();
    wrongVersion.put(0, (byte) 7);
    assertThatThrownBy(() -> RelayFrame.decode(wrongVersion)).hasMessageContaining("version 7");
    assertThatThrownBy(
            () ->
                new RelayFrame(
                    UUID.randomUUID(), "x", ByteBuffer.allocate(RelayFrame.MAX_PAYLOAD + 1)))
        .hasMessageContaining("at most 65536");
  }

  @Test
  void messagesLeaveOutAbsentFieldsAndIgnoreUnknownOnes() {
    SignalMessage sdp =
        new SignalMessage().type(MessageType.SDP).sdpType(SdpType.ANSWER).sdp("v=0");
    String text = SignalCodec.encode(sdp);
    assertThat(text).isEqualTo("{\"type\":\"sdp\",\"sdpType\":\"answer\",\"sdp\":\"v=0\"}");

    SignalMessage back = SignalCodec.decode("{\"type\":\"heartbeat\",\"fromTheFuture\":1}");
    assertThat(back.getType()).isEqualTo(MessageType.HEARTBEAT);
    assertThatThrownBy(() -> SignalCodec.decode("{\"type\":\"teleport\"}"))
        .isInstanceOf(ProtocolException.class);
    assertThatThrownBy(() -> SignalCodec.decode("[]")).isInstanceOf(ProtocolException.class);
  }
}
