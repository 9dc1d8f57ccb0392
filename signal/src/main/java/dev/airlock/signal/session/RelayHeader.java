package dev.airlock.signal.session;

import dev.airlock.protocol.ProtocolException;
import dev.airlock.protocol.RelayFrame;
import java.nio.ByteBuffer;
import java.util.UUID;
import org.springframework.core.io.buffer.DataBuffer;

/**
 * The header of a relayed binary frame, read without touching (or copying) its payload.
 *
 * @param sessionId the session the frame belongs to
 * @param payloadBytes the payload's length, which is what sessions count
 */
public record RelayHeader(UUID sessionId, int payloadBytes) {

  /**
   * Reads the header of {@code frame}, leaving it as it was.
   *
   * @throws ProtocolException when it is not a version 1 relay frame
   */
  public static RelayHeader of(DataBuffer frame) {
    int size = frame.readableByteCount();
    if (size < 19) {
      throw new ProtocolException("relay frame of " + size + " bytes (expected: at least 19)");
    }
    // At most 18 bytes copied: the version, the session id and the label length.
    ByteBuffer head = ByteBuffer.allocate(18);
    frame.toByteBuffer(frame.readPosition(), head, 0, 18);
    if (head.get(0) != RelayFrame.VERSION) {
      throw new ProtocolException(
          "relay frame version " + head.get(0) + " (expected: " + RelayFrame.VERSION + ")");
    }
    int label = Byte.toUnsignedInt(head.get(17));
    if (label < 1 || label > 64 || size < 18 + label) {
      throw new ProtocolException("relay frame label length " + label + " (expected: 1..64)");
    }
    return new RelayHeader(RelayFrame.sessionOf(head), size - 18 - label);
  }
}
