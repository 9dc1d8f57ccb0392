package dev.airlock.sdk.connect;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.CloseCodes;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;

class FingerprintCheckTest {

  private static final String REGISTERED =
      "sha-256 3A:9C:0E:11:48:7D:55:2B:90:AA:01:6F:C3:7E:24:B8:19:DD:60:4F:8A:35:E2:0C:71:9B:BE:43:06:FD:58:C1";

  private static String answerWith(String fingerprint) {
    return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\na=fingerprint:" + fingerprint + "\r\n";
  }

  @Test
  void acceptsTheRegisteredFingerprintInAnyCase() {
    assertThatCode(() -> FingerprintCheck.verify(REGISTERED, answerWith(REGISTERED.toLowerCase())))
        .doesNotThrowAnyException();
  }

  @Test
  void refusesAnotherFingerprintNamingBoth() {
    String other = REGISTERED.replace("3A:9C", "3A:9D");

    assertThatThrownBy(() -> FingerprintCheck.verify(REGISTERED, answerWith(other)))
        .isInstanceOf(AirlockConnectException.class)
        .hasMessageContaining("DTLS fingerprint mismatch")
        .hasMessageContaining(REGISTERED)
        .hasMessageContaining(other);
  }

  @Test
  void refusesAnAnswerWithoutFingerprint() {
    assertThatThrownBy(() -> FingerprintCheck.verify(REGISTERED, "v=0\r\n"))
        .isInstanceOf(AirlockConnectException.class)
        .hasMessageContaining("missing");
  }

  @Test
  void closesBecomeExceptionsNamingTheCodeAndReason() {
    AirlockConnectException replayed =
        SessionConnector.refusal(
            new SignalSocket.Closed(CloseCodes.TOKEN_REPLAYED, "connect token already used"));

    Assertions.assertThat(replayed.closeCode()).isEqualTo(4409);
    Assertions.assertThat(replayed)
        .hasMessageContaining("already used")
        .hasMessageContaining("4409");
  }
}
