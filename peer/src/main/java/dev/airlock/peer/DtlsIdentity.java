package dev.airlock.peer;

import dev.onvoid.webrtc.RTCCertificatePEM;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/**
 * A persistent DTLS certificate (ECDSA P-256, self-signed, valid 20 years) and its private key,
 * kept as PEM files ({@value #CERTIFICATE_FILE}, {@value #KEY_FILE}, mode 0600) in a directory.
 *
 * <p>Its {@link #fingerprint()} is what an agent registers at enrolment and what a client expects
 * in the agent's SDP answer; peer connections made with {@link #certificates()} present exactly
 * this certificate. Immutable and thread-safe.
 */
public final class DtlsIdentity {

  /** The certificate's file name in the directory. */
  public static final String CERTIFICATE_FILE = "dtls-cert.pem";

  /** The private key's file name in the directory (PKCS#8). */
  public static final String KEY_FILE = "dtls-key.pem";

  private static final int VALID_DAYS = 20 * 365;

  private final String privateKeyPem;
  private final String certificatePem;
  private final long expiresAtMillis;
  private final String fingerprint;

  private DtlsIdentity(String privateKeyPem, String certificatePem) {
    this.privateKeyPem = privateKeyPem;
    this.certificatePem = certificatePem;
    byte[] der = pemBody(certificatePem);
    try {
      X509Certificate certificate =
          (X509Certificate)
              CertificateFactory.getInstance("X.509")
                  .generateCertificate(new ByteArrayInputStream(der));
      this.expiresAtMillis = certificate.getNotAfter().getTime();
      this.fingerprint =
          "sha-256 "
              + HexFormat.ofDelimiter(":")
                  .withUpperCase()
                  .formatHex(MessageDigest.getInstance("SHA-256").digest(der));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("DTLS certificate unreadable: " + e.getMessage(), e);
    }
  }

  /**
   * Loads the identity kept in {@code directory}, or creates one there (and the directory, mode
   * 0700) on first use.
   *
   * @throws UncheckedIOException when the directory cannot be read or written
   * @throws IllegalStateException when the files exist but do not hold a certificate
   */
  public static DtlsIdentity loadOrCreate(Path directory) {
    Path key = directory.resolve(KEY_FILE);
    Path certificate = directory.resolve(CERTIFICATE_FILE);
    try {
      if (!Files.exists(key) || !Files.exists(certificate)) {
        DtlsIdentity created = generate();
        PrivateFiles.createDirectory(directory);
        // Certificate after key: a crash in between leaves no certificate, so the next start
        // makes a new pair rather than pairing a certificate with the wrong key.
        PrivateFiles.write(key, created.privateKeyPem);
        PrivateFiles.write(certificate, created.certificatePem);
        return created;
      }
      return new DtlsIdentity(Files.readString(key), Files.readString(certificate));
    } catch (IOException e) {
      throw new UncheckedIOException("DTLS identity in " + directory + ": " + e.getMessage(), e);
    }
  }

  /** A fresh identity that lives in memory only (e.g. a client's, which nobody pins). */
  public static DtlsIdentity generate() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      byte[] algorithm = Der.sequence(Der.oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256
      byte[] name = Der.sequence(Der.set(Der.sequence(Der.oid("2.5.4.3"), Der.utf8("airlock"))));
      // Backdated a day so that a peer whose clock is behind still accepts it.
      ZonedDateTime from = ZonedDateTime.now(ZoneOffset.UTC).minusDays(1).withNano(0);
      byte[] serial = new BigInteger(63, new SecureRandom()).add(BigInteger.ONE).toByteArray();
      byte[] tbs =
          Der.sequence(
              Der.tlv(0xA0, Der.integer(new byte[] {2})), // v3
              Der.integer(serial),
              algorithm,
              name,
              Der.sequence(Der.time(from), Der.time(from.plusDays(VALID_DAYS))),
              name,
              pair.getPublic().getEncoded());
      Signature signer = Signature.getInstance("SHA256withECDSA");
      signer.initSign(pair.getPrivate());
      signer.update(tbs);
      byte[] signature = signer.sign();
      byte[] bits = new byte[signature.length + 1]; // leading 0: no unused bits
      System.arraycopy(signature, 0, bits, 1, signature.length);
      byte[] certificate = Der.sequence(tbs, algorithm, Der.tlv(0x03, bits));
      return new DtlsIdentity(
          pem("PRIVATE KEY", pair.getPrivate().getEncoded()), pem("CERTIFICATE", certificate));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a DTLS certificate: " + e.getMessage(), e);
    }
  }

  /** The SHA-256 fingerprint as in SDP: {@code sha-256 AB:CD:…}, 32 upper-case hex pairs. */
  public String fingerprint() {
    return fingerprint;
  }

  /** The certificate as {@code RTCConfiguration.certificates} expects it. */
  public List<RTCCertificatePEM> certificates() {
    return List.of(new RTCCertificatePEM(privateKeyPem, certificatePem, expiresAtMillis));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static byte[] pemBody(String pem) {
    return Base64.getDecoder()
        .decode(pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", ""));
  }
}
