package dev.airlock.peer;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reading what Airlock needs from an SDP session description. */
public final class Sdp {

  private static final Pattern FINGERPRINT =
      Pattern.compile("^a=fingerprint:\\s*(\\S+)\\s+([0-9A-Fa-f:]+)\\s*$", Pattern.MULTILINE);

  private static final Pattern SHA256 = Pattern.compile("([0-9A-F]{2}:){31}[0-9A-F]{2}");

  private Sdp() {}

  /**
   * The DTLS certificate fingerprint of an SDP ({@code a=fingerprint}), normalised to {@code
   * sha-256 AB:CD:…} (lower-case hash name, upper-case hex).
   *
   * @throws IllegalArgumentException when the SDP has no SHA-256 fingerprint, or several that
   *     differ (a bundle of media sections shares one certificate)
   */
  public static String fingerprint(String sdp) {
    if (sdp == null) {
      throw new IllegalArgumentException("SDP: missing (expected: a session description)");
    }
    String found = null;
    Matcher matcher = FINGERPRINT.matcher(sdp.replace("\r", ""));
    while (matcher.find()) {
      if (!matcher.group(1).equalsIgnoreCase("sha-256")) {
        continue;
      }
      String value = matcher.group(2).toUpperCase(Locale.ROOT);
      if (!SHA256.matcher(value).matches()) {
        throw new IllegalArgumentException(
            "SDP fingerprint " + value + " (expected: 32 hex pairs separated by colons)");
      }
      if (found != null && !found.equals(value)) {
        throw new IllegalArgumentException(
            "SDP with two different fingerprints " + found + " and " + value);
      }
      found = value;
    }
    if (found == null) {
      throw new IllegalArgumentException(
          "SDP without an a=fingerprint:sha-256 line (expected: one per DTLS description)");
    }
    return "sha-256 " + found;
  }
}
