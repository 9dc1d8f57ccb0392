package dev.airlock.testkit;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;

/**
 * A database of its own for one run, on the server named by {@code AIRLOCK_TEST_DATABASE_URL}
 * (default {@value #DEFAULT_SERVER_URL}, the form the platform's {@code airlock.database.url}
 * takes, without a database name). The platform creates the database on first start; the test drops
 * it at the end.
 *
 * <p>The server is reached over JDBC ({@code jdbc:mariadb:}): a module using this class puts {@code
 * org.mariadb.jdbc:mariadb-java-client} on its test class path.
 */
public final class TestDatabase {

  /** The environment variable naming the database server. */
  public static final String SERVER_URL_ENV = "AIRLOCK_TEST_DATABASE_URL";

  /** The server used when the environment variable is not set. */
  public static final String DEFAULT_SERVER_URL = "mysql://root:@127.0.0.1:3306";

  private final String serverUrl;
  private final String host;
  private final int port;
  private final String user;
  private final String password;
  private final String name;

  private TestDatabase(
      String serverUrl, String host, int port, String user, String password, String name) {
    this.serverUrl = serverUrl;
    this.host = host;
    this.port = port;
    this.user = user;
    this.password = password;
    this.name = name;
  }

  /**
   * A database name not used before, on the configured server: {@code prefix}, the time and a
   * random part ({@code airlock_ct_20250101_120000_a1b2c3}).
   *
   * @param prefix what the name starts with, telling which suite left a database behind (e.g.
   *     {@code "airlock_ct_"}); letters, digits and underscores
   */
  public static TestDatabase fresh(String prefix) {
    if (!prefix.matches("[A-Za-z0-9_]+")) {
      throw new IllegalArgumentException("Not a database name prefix: " + prefix);
    }
    String configured = System.getenv(SERVER_URL_ENV);
    String serverUrl =
        configured == null || configured.isBlank() ? DEFAULT_SERVER_URL : configured.strip();
    while (serverUrl.endsWith("/")) {
      serverUrl = serverUrl.substring(0, serverUrl.length() - 1);
    }
    String expected =
        " (expected: " + SERVER_URL_ENV + " like mysql://user:password@host:3306, no database)";
    URI uri;
    try {
      uri = new URI(serverUrl);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(SERVER_URL_ENV + ": " + serverUrl + expected, e);
    }
    if (uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty())) {
      throw new IllegalStateException(SERVER_URL_ENV + ": " + serverUrl + expected);
    }
    String userInfo = uri.getUserInfo() == null ? "root:" : uri.getUserInfo();
    int colon = userInfo.indexOf(':');
    String user = colon < 0 ? userInfo : userInfo.substring(0, colon);
    String password = colon < 0 ? "" : userInfo.substring(colon + 1);
    byte[] random = new byte[3];
    new SecureRandom().nextBytes(random);
    String name =
        prefix
            + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss"))
            + "_"
            + HexFormat.of().formatHex(random);
    return new TestDatabase(
        serverUrl, uri.getHost(), uri.getPort() < 0 ? 3306 : uri.getPort(), user, password, name);
  }

  /** The database's name. */
  public String name() {
    return name;
  }

  /** The value of the platform's {@code --airlock.database.url} for this database. */
  public String platformUrl() {
    return serverUrl + "/" + name;
  }

  /**
   * Opens a JDBC connection to this database with the server's credentials, which the test treats
   * as an attacker's DBA rights.
   */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(jdbcUrl(name), user, password);
  }

  /** Fails with a message naming the server and the variable when it cannot be reached. */
  public void requireReachable() {
    try (Connection connection = DriverManager.getConnection(jdbcUrl(""), user, password)) {
      connection.isValid(5);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "Cannot reach the test database server "
              + host
              + ":"
              + port
              + " as "
              + user
              + " ("
              + e.getMessage()
              + "). Start MySQL/MariaDB there, or set "
              + SERVER_URL_ENV
              + " (e.g. mysql://root:@127.0.0.1:3306).",
          e);
    }
  }

  /** Drops the database, if it exists. */
  public void drop() throws SQLException {
    try (Connection connection = DriverManager.getConnection(jdbcUrl(""), user, password);
        Statement statement = connection.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS `" + name + "`");
    }
  }

  private String jdbcUrl(String database) {
    return "jdbc:mariadb://" + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return name + " on " + host + ":" + port;
  }
}
