package dev.airlock.peer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SdpTest {

  private static final String HEX =
      "3a:9c:0e:11:48:7d:55:2b:90:aa:01:6f:c3:7e:24:b8:19:dd:60:4f:8a:35:e2:0c:71:9b:be:43:06:fd:58:c1";

  @Test
  void normalisesTheFingerprint() {
    String sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\na=fingerprint:SHA-256 " + HEX + "\r\n";

    assertThat(Sdp.fingerprint(sdp)).isEqualTo("sha-256 " + HEX.toUpperCase());
  }

  @Test
  void acceptsTheSameFingerprintInEveryMediaSection() {
    String line = "a=fingerprint:sha-256 " + HEX.toUpperCase() + "\r\n";
    String sdp = "v=0\r\n" + line + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n" + line;

    assertThat(Sdp.fingerprint(sdp)).isEqualTo("sha-256 " + HEX.toUpperCase());
  }

  @Test
  void refusesAnSdpWithoutOrWithTwoDifferentFingerprints() {
    assertThatThrownBy(() -> Sdp.fingerprint("v=0\r\na=fingerprint:sha-1 AB:CD\r\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("without an a=fingerprint:sha-256");
    String other = HEX.toUpperCase().replace("3A:", "3B:");
    assertThatThrownBy(
            () ->
                Sdp.fingerprint(
                    "a=fingerprint:sha-256 " + HEX + "\r\na=fingerprint:sha-256 " + other + "\r\n"))
        .hasMessageContaining("two different fingerprints");
  }
}
