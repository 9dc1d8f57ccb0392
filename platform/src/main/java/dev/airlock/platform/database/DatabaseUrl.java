package dev.airlock.platform.database;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * A MySQL or MariaDB server and database, parsed from {@code mysql://user:password@host:port/db}
 * (also {@code mariadb://}). The password may be empty; user and password are percent-decoded.
 */
public record DatabaseUrl(String host, int port, String user, String password, String database) {

  /** Parses {@code url}; throws {@link IllegalArgumentException} naming what is wrong. */
  public static DatabaseUrl parse(String url) {
    URI uri;
    try {
      uri = URI.create(url.trim());
    } catch (IllegalArgumentException e) {
      throw invalid(url, "not a URL");
    }
    if (!"mysql".equals(uri.getScheme()) && !"mariadb".equals(uri.getScheme())) {
      throw invalid(url, "the scheme must be mysql:// or mariadb://");
    }
    if (uri.getHost() == null) {
      throw invalid(url, "no host");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceFirst("^/", "");
    if (!path.matches("[A-Za-z0-9_$]{1,64}")) {
      throw invalid(url, "the path must name the database, e.g. /airlock");
    }
    String user = "root";
    String password = "";
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
      password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
    }
    return new DatabaseUrl(
        uri.getHost(), uri.getPort() < 0 ? 3306 : uri.getPort(), user, password, path);
  }

  /** The JDBC URL of the server, without database, for migrations and creating the database. */
  public String jdbcServerUrl() {
    return "jdbc:mariadb://" + host + ":" + port + "/";
  }

  /** The JDBC URL of the database, for migrations. */
  public String jdbcUrl() {
    return jdbcServerUrl() + database;
  }

  /** The URL without the password, safe to log. */
  public String redacted() {
    return "mysql://" + user + "@" + host + ":" + port + "/" + database;
  }

  @Override
  public String toString() {
    return redacted();
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static IllegalArgumentException invalid(String url, String why) {
    String shown = url.replaceAll("//([^:@/]*):[^@/]*@", "//$1:***@");
    return new IllegalArgumentException(
        "airlock.database.url: "
            + shown
            + " ("
            + why
            + "; expected: mysql://user:password@host:3306/airlock)");
  }
}
