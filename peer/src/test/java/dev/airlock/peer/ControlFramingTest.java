package dev.airlock.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.protocol.ProtocolException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** The signalling stream's framing, as the agent and the node both read it. */
class ControlFramingTest {

  private static final Duration CALL = Duration.ofSeconds(5);

  /** A text, a binary and a close message, as one body. */
  private static byte[] threeMessages() {
    ByteBuf all =
        Unpooled.wrappedBuffer(
            ControlFraming.encode(new TextWebSocketFrame("{\"type\":\"heartbeat\"}")),
            ControlFraming.encode(
                new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}))),
            ControlFraming.encode(new CloseWebSocketFrame(4403, "agent revoked")));
    byte[] bytes = new byte[all.readableBytes()];
    all.readBytes(bytes);
    all.release();
    return bytes;
  }

  @Test
  void messagesComeOutWholeHoweverTheBodyIsCut() {
    byte[] body = threeMessages();
    // Every cut into two chunks, and one byte at a time.
    List<List<ByteBuf>> cuts = new ArrayList<>();
    for (int at = 0; at <= body.length; at++) {
      cuts.add(
          List.of(
              Unpooled.wrappedBuffer(body, 0, at),
              Unpooled.wrappedBuffer(body, at, body.length - at)));
    }
    List<ByteBuf> bytewise = new ArrayList<>();
    for (byte b : body) {
      bytewise.add(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    cuts.add(bytewise);
    for (List<ByteBuf> chunks : cuts) {
      List<WebSocketFrame> frames =
          ControlFraming.decode(Flux.fromIterable(chunks), 1024).collectList().block(CALL);
      assertThat(frames).hasSize(3);
      assertThat(((TextWebSocketFrame) frames.get(0)).text()).isEqualTo("{\"type\":\"heartbeat\"}");
      byte[] binary = new byte[3];
      frames.get(1).content().getBytes(0, binary);
      assertThat(frames.get(1)).isInstanceOf(BinaryWebSocketFrame.class);
      assertThat(binary).containsExactly(1, 2, 3);
      CloseWebSocketFrame close = (CloseWebSocketFrame) frames.get(2);
      assertThat(close.statusCode()).isEqualTo(4403);
      assertThat(close.reasonText()).isEqualTo("agent revoked");
      frames.forEach(WebSocketFrame::release);
      // The decoder keeps nothing: only the source's own reference is left.
      chunks.forEach(chunk -> assertThat(chunk.refCnt()).as("chunks are released").isOne());
      chunks.forEach(ByteBuf::release);
    }
  }

  @Test
  void aMessageOverTheLimitFailsTheStreamBeforeItIsRead() {
    ByteBuf header = Unpooled.buffer().writeByte(1).writeInt(1_000_000);
    assertThatThrownBy(() -> ControlFraming.decode(Flux.just(header), 65_536).blockLast(CALL))
        .isInstanceOf(TooLongFrameException.class)
        .hasMessage("control message of 1000000 bytes (at most 65536)");
  }

  @Test
  void anUnknownKindFailsTheStream() {
    ByteBuf ping =
        Unpooled.buffer()
            .writeByte(9)
            .writeInt(4)
            .writeBytes("ping".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> ControlFraming.decode(Flux.just(ping), 65_536).blockLast(CALL))
        .isInstanceOf(ProtocolException.class)
        .hasMessage("unknown control message kind 9 (expected: 1 text, 2 binary or 8 close)");
  }
}
