package dev.airlock.protocol;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * One binary WebSocket frame of a relayed session: version 1, the session id, the channel label and
 * the payload (see {@code openapi/signal.yaml}).
 *
 * @param sessionId the session the bytes belong to
 * @param channel the data channel's label, 1..64 bytes of UTF-8
 * @param payload the bytes, at most {@link #MAX_PAYLOAD}
 */
public record RelayFrame(UUID sessionId, String channel, ByteBuffer payload) {

  /** The frame layout version. */
  public static final byte VERSION = 1;

  /** The largest payload of one frame. */
  public static final int MAX_PAYLOAD = 64 * 1024;

  /** The largest frame: header plus payload. */
  public static final int MAX_FRAME = 1 + 16 + 1 + 64 + MAX_PAYLOAD;

  public RelayFrame {
    byte[] label = channel.getBytes(StandardCharsets.UTF_8);
    if (label.length < 1 || label.length > 64) {
      throw new ProtocolException(
          "channel label of " + label.length + " bytes (expected: 1..64 bytes of UTF-8)");
    }
    if (payload.remaining() > MAX_PAYLOAD) {
      throw new ProtocolException(
          "relay payload of "
              + payload.remaining()
              + " bytes (expected: at most "
              + MAX_PAYLOAD
              + ")");
    }
  }

  /** The frame's bytes, ready to send. */
  public ByteBuffer encode() {
    byte[] label = channel.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(18 + label.length + payload.remaining());
    out.put(VERSION)
        .putLong(sessionId.getMostSignificantBits())
        .putLong(sessionId.getLeastSignificantBits())
        .put((byte) label.length)
        .put(label)
        .put(payload.duplicate());
    return out.flip();
  }

  /**
   * Reads a frame; the payload is a view of {@code frame}, not a copy.
   *
   * @throws ProtocolException when the frame is malformed
   */
  public static RelayFrame decode(ByteBuffer frame) {
    ByteBuffer in = frame.duplicate();
    if (in.remaining() < 19) {
      throw new ProtocolException(
          "relay frame of " + in.remaining() + " bytes (expected: at least 19)");
    }
    byte version = in.get();
    if (version != VERSION) {
      throw new ProtocolException("relay frame version " + version + " (expected: 1)");
    }
    UUID session = new UUID(in.getLong(), in.getLong());
    int length = Byte.toUnsignedInt(in.get());
    if (length < 1 || length > 64 || in.remaining() < length) {
      throw new ProtocolException("relay frame label length " + length + " (expected: 1..64)");
    }
    byte[] label = new byte[length];
    in.get(label);
    return new RelayFrame(session, new String(label, StandardCharsets.UTF_8), in.slice());
  }

  /** The session id of an encoded frame, without decoding the rest; null when too short. */
  public static UUID sessionOf(ByteBuffer frame) {
    if (frame.remaining() < 17) {
      return null;
    }
    int at = frame.position() + 1;
    return new UUID(frame.getLong(at), frame.getLong(at + 8));
  }
}
