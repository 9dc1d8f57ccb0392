package dev.airlock.platform.auth;

import dev.airlock.platform.AirlockProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Encrypts the secrets the platform must store and use again (a directory's bind password) with
 * AES-256-GCM under the key of {@code airlock.secrets.*}: {@code AIRLOCK_SECRETS_KEY}, or the key
 * file, created with 32 random bytes at first start. Each value carries its own random nonce and is
 * bound to a context (the row it belongs to), so a value copied to another row does not decrypt.
 *
 * <p>Stored form: base64 of a version byte (1), the 12-byte nonce, and the ciphertext with its tag.
 */
@Component
public class SecretCipher {

  private static final Logger log = LoggerFactory.getLogger(SecretCipher.class);
  private static final byte VERSION = 1;
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;

  private final SecretKeySpec key;

  public SecretCipher(AirlockProperties properties) {
    byte[] bytes = properties.secrets().keyBytes();
    if (bytes == null) {
      bytes = keyFromFile(keyFile(properties));
    }
    this.key = new SecretKeySpec(bytes, "AES");
    Arrays.fill(bytes, (byte) 0);
  }

  /** Where the key file is (whether or not the key comes from it). */
  public static Path keyFile(AirlockProperties properties) {
    String file = properties.secrets().keyFile();
    return file.isBlank()
        ? properties.dataDir().toAbsolutePath().normalize().resolve("secrets.key")
        : Path.of(file).toAbsolutePath().normalize();
  }

  /** {@code secret} encrypted for {@code context} (e.g. the id of the row that stores it). */
  public String encrypt(String secret, String context) {
    byte[] nonce = new byte[NONCE_BYTES];
    Secrets.random().nextBytes(nonce);
    try {
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
      cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = cipher.doFinal(secret.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[1 + NONCE_BYTES + sealed.length];
      out[0] = VERSION;
      System.arraycopy(nonce, 0, out, 1, NONCE_BYTES);
      System.arraycopy(sealed, 0, out, 1 + NONCE_BYTES, sealed.length);
      return Base64.getEncoder().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is missing from this JVM", e);
    }
  }

  /**
   * The secret {@link #encrypt} sealed for {@code context}; fails with {@link UndecryptableSecret}
   * when the key is not the one it was encrypted with, or the value was altered or moved.
   */
  public String decrypt(String sealed, String context) {
    try {
      byte[] in = Base64.getDecoder().decode(sealed);
      if (in.length < 1 + NONCE_BYTES + TAG_BITS / 8 || in[0] != VERSION) {
        throw new UndecryptableSecret();
      }
      Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, in, 1, NONCE_BYTES));
      cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
      byte[] plain = cipher.doFinal(in, 1 + NONCE_BYTES, in.length - 1 - NONCE_BYTES);
      return new String(plain, StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new UndecryptableSecret();
    }
  }

  private static byte[] keyFromFile(Path file) {
    try {
      if (!Files.exists(file)) {
        byte[] fresh = new byte[32];
        Secrets.random().nextBytes(fresh);
        Secrets.writePrivateFile(file, Base64.getEncoder().encodeToString(fresh));
        log.info("Created the secrets key {} (keep it: stored secrets need it)", file);
        return fresh;
      }
      String text = Files.readString(file).trim();
      byte[] bytes;
      try {
        bytes = Base64.getDecoder().decode(text);
      } catch (IllegalArgumentException e) {
        bytes = new byte[0];
      }
      if (bytes.length != 32) {
        throw new IllegalStateException(
            "airlock.secrets.key-file: "
                + file
                + " does not hold 32 bytes in base64 (expected: the key the platform created,"
                + " or the output of 'openssl rand -base64 32')");
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("airlock.secrets.key-file: cannot read or create " + file, e);
    }
  }

  /** A stored secret does not decrypt with this platform's key. Carries no secret. */
  public static final class UndecryptableSecret extends RuntimeException {
    UndecryptableSecret() {
      super(
          "the stored secret does not decrypt with this platform's secrets key (airlock.secrets.key"
              + " or key-file changed?); set it again",
          null,
          false,
          false);
    }
  }
}
