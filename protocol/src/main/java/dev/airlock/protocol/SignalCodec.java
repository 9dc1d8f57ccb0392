package dev.airlock.protocol;

import dev.airlock.protocol.message.SignalHealth;
import dev.airlock.protocol.message.SignalMessage;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns {@link SignalMessage}s into text frames and back. Unknown fields are ignored (a newer peer
 * may send more); absent fields are left out, so frames stay small.
 */
public final class SignalCodec {

  /** The WebSocket subprotocol every endpoint speaks. */
  public static final String SUBPROTOCOL = "airlock.signal.v1";

  /** The protocol version in {@code hello} and {@code welcome}. */
  public static final int VERSION = 1;

  /** The largest text frame either side accepts. */
  public static final int MAX_TEXT_FRAME = 64 * 1024;

  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .changeDefaultPropertyInclusion(
              incl ->
                  incl.withValueInclusion(
                      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL))
          .build();

  private SignalCodec() {}

  /**
   * Checks the protocol version a {@code hello} names (none means {@link #VERSION}).
   *
   * @throws ProtocolException when it names another version
   */
  public static void requireVersion(SignalMessage hello) {
    if (hello.getProtocol() != null && hello.getProtocol() != VERSION) {
      throw new ProtocolException(
          "protocol version " + hello.getProtocol() + " (expected: " + VERSION + ")");
    }
  }

  /**
   * Parses a signal node's health ({@code GET /signal/v1/health}).
   *
   * @throws ProtocolException when it is not one
   */
  public static SignalHealth decodeHealth(String json) {
    try {
      SignalHealth health = MAPPER.readValue(json, SignalHealth.class);
      if (health == null || health.getNodeId() == null) {
        throw new ProtocolException("not a signal node's health (no nodeId)");
      }
      return health;
    } catch (JacksonException e) {
      throw new ProtocolException(
          "not a signal node's health: " + e.getOriginalMessage().lines().findFirst().orElse(""));
    }
  }

  /** The JSON text of {@code message}. */
  public static String encode(SignalMessage message) {
    return MAPPER.writeValueAsString(message);
  }

  /**
   * Parses a text frame.
   *
   * @throws ProtocolException when it is not a JSON object with a known {@code type}
   */
  public static SignalMessage decode(String text) {
    SignalMessage message;
    try {
      message = MAPPER.readValue(text, SignalMessage.class);
    } catch (JacksonException e) {
      throw new ProtocolException(
          "not a signal message: "
              + e.getOriginalMessage().lines().findFirst().orElse("")
              + " (expected: a JSON object with a known type)");
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(
          "not a signal message: " + e.getMessage() + " (expected: a known type)");
    }
    if (message == null || message.getType() == null) {
      throw new ProtocolException("message without a type (expected: hello, sdp, ice, …)");
    }
    return message;
  }
}
