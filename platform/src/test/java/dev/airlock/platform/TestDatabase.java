package dev.airlock.platform;

import java.util.UUID;

/**
 * The real MySQL/MariaDB server the tests use ({@code AIRLOCK_TEST_DATABASE_URL}, default root
 * without password on 127.0.0.1:3306, as {@code ./airlock test} provides); each test class gets a
 * database of its own, created by the platform at start.
 */
public final class TestDatabase {

  private TestDatabase() {}

  /** A URL naming a fresh database on the test server. */
  public static String freshUrl() {
    String server =
        System.getenv().getOrDefault("AIRLOCK_TEST_DATABASE_URL", "mysql://root:@127.0.0.1:3306");
    return server.replaceAll("/+$", "")
        + "/airlock_test_"
        + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }
}
