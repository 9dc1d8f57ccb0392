package dev.airlock.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The credentials file, {@code credentials.json} in the CLI's configuration directory: {@code
 * $AIRLOCK_CONFIG_DIR}, else {@code $XDG_CONFIG_HOME/airlock}, else {@code ~/.config/airlock}. The
 * directory is kept private (0700) and the file readable by its owner only (0600), written whole
 * through a temporary file so that a reader never sees half of it.
 *
 * <p>Several {@code airlock} processes may run at once and refresh tokens are single use (the
 * platform ends a session whose refresh token is presented twice), so a read-refresh-write sequence
 * runs under {@link #locked(Supplier)}, an exclusive lock on a file beside it.
 */
final class CredentialStore {

  static final String CONFIG_DIR_ENV = "AIRLOCK_CONFIG_DIR";
  static final String FILE_NAME = "credentials.json";
  private static final String LOCK_NAME = ".credentials.lock";

  /**
   * File locks are held by the whole JVM (a second one from the same process fails rather than
   * waits), so threads of one process take turns here first.
   */
  private static final Object PROCESS_LOCK = new Object();

  private static final Set<PosixFilePermission> DIRECTORY_MODE =
      PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE =
      PosixFilePermissions.fromString("rw-------");

  private final Path directory;
  private final JsonMapper mapper;

  CredentialStore(Path directory) {
    this.directory = directory.toAbsolutePath().normalize();
    this.mapper = JsonMapper.builder().build();
  }

  /** The store in the configuration directory the environment names. */
  static CredentialStore of(CliContext context) {
    String configured = context.env(CONFIG_DIR_ENV);
    if (configured != null) {
      return new CredentialStore(Path.of(configured));
    }
    String xdg = context.env("XDG_CONFIG_HOME");
    if (xdg != null) {
      return new CredentialStore(Path.of(xdg, "airlock"));
    }
    return new CredentialStore(Path.of(System.getProperty("user.home"), ".config", "airlock"));
  }

  /** The credentials file. */
  Path file() {
    return directory.resolve(FILE_NAME);
  }

  /**
   * The stored login, or empty when there is none.
   *
   * @throws CliException (credentials) when the file exists but cannot be read as a login
   */
  Optional<StoredLogin> load() {
    Path file = file();
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    StoredLogin login;
    try {
      login = mapper.readValue(Files.readString(file, StandardCharsets.UTF_8), StoredLogin.class);
    } catch (IOException | JacksonException e) {
      throw unreadable(file, e.getClass().getSimpleName());
    }
    if (login == null || !login.complete()) {
      throw unreadable(file, "fields missing");
    }
    return Optional.of(login);
  }

  private static CliException unreadable(Path file, String why) {
    return new CliException(
        ExitStatus.CREDENTIALS,
        "cannot read the stored login in "
            + file
            + " ("
            + why
            + "): run 'airlock logout' and 'airlock login' again");
  }

  /** Replaces the stored login (creating the directory, private, if needed). */
  void save(StoredLogin login) {
    try {
      createPrivateDirectory();
      Path temporary = Files.createTempFile(directory, ".credentials-", ".tmp", fileAttributes());
      try {
        Files.writeString(
            temporary,
            mapper.writerWithDefaultPrettyPrinter().writeValueAsString(login) + "\n",
            StandardCharsets.UTF_8);
        move(temporary, file());
      } finally {
        Files.deleteIfExists(temporary);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file(), e);
    }
  }

  /** Removes the stored login; returns whether there was one. */
  boolean delete() {
    try {
      return Files.deleteIfExists(file());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + file(), e);
    }
  }

  /**
   * Runs {@code action} holding the store's exclusive lock, which other {@code airlock} processes
   * wait for.
   */
  <T> T locked(Supplier<T> action) {
    synchronized (PROCESS_LOCK) {
      try {
        createPrivateDirectory();
        try (FileChannel channel =
                FileChannel.open(
                    directory.resolve(LOCK_NAME),
                    Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                    fileAttributes());
            FileLock lock = channel.lock()) {
          return action.get();
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot lock " + directory.resolve(LOCK_NAME), e);
      }
    }
  }

  private void createPrivateDirectory() throws IOException {
    if (!isPosix()) {
      Files.createDirectories(directory);
      return;
    }
    if (!Files.isDirectory(directory)) {
      Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(DIRECTORY_MODE));
    }
    // It holds tokens: private even when it already existed with a wider mode.
    if (!Files.getPosixFilePermissions(directory).equals(DIRECTORY_MODE)) {
      Files.setPosixFilePermissions(directory, DIRECTORY_MODE);
    }
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static FileAttribute<?>[] fileAttributes() {
    return isPosix()
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)}
        : new FileAttribute<?>[0];
  }

  private static boolean isPosix() {
    return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
  }
}
