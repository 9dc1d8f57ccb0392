package dev.airlock.peer;

import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.RelayFrame;
import dev.airlock.protocol.SignalCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ReferenceCounted;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Flux;

/**
 * The signalling socket's messages on an HTTP/2 stream of a node's tunnel connection ({@code POST
 * /tunnel/v1/control}), so that an edge node keeps one connection, not a WebSocket beside it. Each
 * message is what the WebSocket would carry, behind a five-byte header:
 *
 * <pre>
 * | 1 byte: kind (1 text, 2 binary, 8 close, as WebSocket opcodes) | 4 bytes: length L | L bytes |
 * </pre>
 *
 * A text message holds one JSON signal message; a binary one a relay frame; a close the two-byte
 * code and the UTF-8 reason, as a WebSocket close frame does. Either side sends close last and then
 * ends its body. Messages are decoded into Netty's WebSocket frame types, so both ends handle them
 * as they handle a WebSocket's.
 */
public final class ControlFraming {

  /** The kinds of message, WebSocket's opcodes. */
  static final byte TEXT = 1;

  static final byte BINARY = 2;
  static final byte CLOSE = 8;

  static final int HEADER = 5;

  /** The largest message either side accepts: a text message's limit or a relay frame's. */
  public static final int MAX_MESSAGE = Math.max(SignalCodec.MAX_TEXT_FRAME, RelayFrame.MAX_FRAME);

  private ControlFraming() {}

  /** The bytes of {@code frame} on the stream; takes ownership of its content. */
  public static ByteBuf encode(WebSocketFrame frame) {
    byte kind;
    if (frame instanceof TextWebSocketFrame) {
      kind = TEXT;
    } else if (frame instanceof BinaryWebSocketFrame) {
      kind = BINARY;
    } else if (frame instanceof CloseWebSocketFrame) {
      kind = CLOSE;
    } else {
      frame.release();
      throw new IllegalArgumentException("not a control message: " + frame);
    }
    ByteBuf content = frame.content();
    ByteBuf header = Unpooled.buffer(HEADER, HEADER);
    header.writeByte(kind).writeInt(content.readableBytes());
    return Unpooled.wrappedBuffer(header, content);
  }

  /**
   * The messages in a stream's body, as WebSocket frames the caller releases.
   *
   * @param maxPayload the largest message accepted; a larger one fails the flux with {@link
   *     TooLongFrameException}, as a WebSocket's frame decoder does
   */
  public static Flux<WebSocketFrame> decode(Flux<ByteBuf> body, int maxPayload) {
    return Flux.defer(
        () -> {
          Reader reader = new Reader(maxPayload);
          // reactor-netty frees a chunk once onNext returns: keep it (read takes it over).
          return body.doOnNext(ByteBuf::retain)
              .concatMapIterable(reader::read)
              .doOnDiscard(ReferenceCounted.class, ReferenceCountUtil::safeRelease)
              .doFinally(signal -> reader.release());
        });
  }

  /** Cuts a byte stream into messages; keeps what a chunk leaves of a message for the next. */
  static final class Reader {

    private final int maxPayload;
    private CompositeByteBuf pending;

    Reader(int maxPayload) {
      this.maxPayload = maxPayload;
    }

    /** The messages {@code chunk} completes; takes ownership of {@code chunk}. */
    synchronized List<WebSocketFrame> read(ByteBuf chunk) {
      if (pending == null) {
        pending = ByteBufAllocator.DEFAULT.compositeBuffer(Integer.MAX_VALUE);
      }
      pending.addComponent(true, chunk);
      List<WebSocketFrame> frames = new ArrayList<>(1);
      while (pending.readableBytes() >= HEADER) {
        int start = pending.readerIndex();
        byte kind = pending.getByte(start);
        long length = pending.getUnsignedInt(start + 1);
        if (kind != TEXT && kind != BINARY && kind != CLOSE) {
          frames.forEach(WebSocketFrame::release);
          throw new ProtocolException(
              "unknown control message kind " + kind + " (expected: 1 text, 2 binary or 8 close)");
        }
        if (length > maxPayload) {
          frames.forEach(WebSocketFrame::release);
          throw new TooLongFrameException(
              "control message of " + length + " bytes (at most " + maxPayload + ")");
        }
        if (pending.readableBytes() < HEADER + length) {
          break;
        }
        pending.skipBytes(HEADER);
        // A copy: a slice would see other bytes once the read components are discarded.
        ByteBuf content = pending.readBytes((int) length);
        frames.add(
            switch (kind) {
              case TEXT -> new TextWebSocketFrame(content);
              case BINARY -> new BinaryWebSocketFrame(content);
              default -> new CloseWebSocketFrame(true, 0, content);
            });
      }
      pending.discardReadComponents();
      return frames;
    }

    synchronized void release() {
      if (pending != null) {
        pending.release();
        pending = null;
      }
    }
  }
}
