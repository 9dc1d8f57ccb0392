package dev.airlock.platform.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * Random secrets (refresh tokens, API keys, one-time passwords) and their hashes at rest. These
 * secrets carry 256 random bits, so a plain SHA-256 is a sound hash for them (unlike passwords).
 */
public final class Secrets {

  private static final String ALPHABET =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

  // DRBG is seeded once and then never reads /dev/urandom again, so it never blocks an event loop.
  private static final SecureRandom RANDOM = drbg();

  private Secrets() {}

  /** The random generator every token and key uses. */
  public static SecureRandom random() {
    return RANDOM;
  }

  /** {@code prefix} followed by 32 random bytes, base64url without padding. */
  public static String token(String prefix) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** A password of {@code length} characters that are easy to read and type. */
  public static String password(int length) {
    StringBuilder password = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      password.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return password.toString();
  }

  /** The hex SHA-256 of {@code secret}, as stored. */
  public static String sha256(String secret) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /**
   * Writes {@code secret} and a line break to {@code file}, readable by this user only (mode 0600
   * where the file system has POSIX permissions), replacing the file atomically: a reader sees the
   * old secret or the new one, never a half-written file.
   */
  public static Path writePrivateFile(Path file, String secret) throws IOException {
    Files.createDirectories(file.getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temp);
    try {
      Files.createFile(
          temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException noPosix) {
      Files.createFile(temp);
    }
    Files.writeString(temp, secret + System.lineSeparator());
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  private static SecureRandom drbg() {
    try {
      return SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("DRBG is missing from this JVM", e);
    }
  }
}
