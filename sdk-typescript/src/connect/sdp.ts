const FINGERPRINT = /^a=fingerprint:\s*(\S+)\s+([0-9A-Fa-f:]+)\s*$/gm;
const SHA256 = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

/**
 * The DTLS certificate fingerprint of an SDP (`a=fingerprint`), normalised to `sha-256 AB:CD:…`
 * (lower-case hash name, upper-case hex). Throws when the SDP has no SHA-256 fingerprint, a
 * malformed one, or several that differ (a bundle of media sections shares one certificate).
 */
export function sdpFingerprint(sdp: string | undefined | null): string {
  if (sdp == null) {
    throw new Error('SDP: missing (expected: a session description)');
  }
  let found: string | undefined;
  for (const match of sdp.replace(/\r/g, '').matchAll(FINGERPRINT)) {
    if (match[1]!.toLowerCase() !== 'sha-256') {
      continue;
    }
    const value = match[2]!.toUpperCase();
    if (!SHA256.test(value)) {
      throw new Error(`SDP fingerprint ${value} (expected: 32 hex pairs separated by colons)`);
    }
    if (found !== undefined && found !== value) {
      throw new Error(`SDP with two different fingerprints ${found} and ${value}`);
    }
    found = value;
  }
  if (found === undefined) {
    throw new Error('SDP without an a=fingerprint:sha-256 line (expected: one per DTLS description)');
  }
  return `sha-256 ${found}`;
}
