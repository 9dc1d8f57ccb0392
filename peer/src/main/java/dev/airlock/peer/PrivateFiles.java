package dev.airlock.peer;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Files that only their owner may read (keys, identities): directories are created with mode 0700
 * and files with mode 0600 from the start, never widened and narrowed afterwards.
 */
public final class PrivateFiles {

  private PrivateFiles() {}

  /** Creates {@code directory} (and its parents) with mode 0700 unless it exists. */
  public static void createDirectory(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return;
    }
    try {
      Files.createDirectories(
          directory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (FileAlreadyExistsException | UnsupportedOperationException e) {
      Files.createDirectories(directory);
    }
  }

  /** Writes {@code text} to {@code file} with mode 0600, replacing it atomically. */
  public static void write(Path file, String text) throws IOException {
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(temporary);
    try {
      Files.createFile(
          temporary,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(temporary);
    }
    Files.writeString(temporary, text, StandardOpenOption.TRUNCATE_EXISTING);
    Files.move(
        temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
