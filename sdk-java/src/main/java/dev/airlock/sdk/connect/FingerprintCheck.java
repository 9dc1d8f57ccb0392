package dev.airlock.sdk.connect;

import dev.airlock.peer.Sdp;

/**
 * The pinning check: the agent's SDP answer must carry the DTLS fingerprint the platform returned
 * for the agent (over the API's TLS, not through signal).
 */
final class FingerprintCheck {

  private FingerprintCheck() {}

  /**
   * @throws AirlockConnectException when the answer's fingerprint is missing or differs
   */
  static void verify(String expected, String answerSdp) {
    String answered;
    try {
      answered = Sdp.fingerprint(answerSdp);
    } catch (IllegalArgumentException e) {
      throw new AirlockConnectException(
          "DTLS fingerprint missing from the agent's answer ("
              + e.getMessage()
              + "); expected "
              + expected);
    }
    if (expected == null || !expected.equalsIgnoreCase(answered)) {
      throw new AirlockConnectException(
          "DTLS fingerprint mismatch: the agent registered "
              + expected
              + " but answered with "
              + answered
              + "; the SDP was tampered with or the agent is not the enrolled one");
    }
  }
}
