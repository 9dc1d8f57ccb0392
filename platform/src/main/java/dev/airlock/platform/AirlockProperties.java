package dev.airlock.platform;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The platform's settings ({@code airlock.*}, or the matching {@code AIRLOCK_*} environment
 * variables).
 *
 * @param dataDir where the platform keeps its files: the embedded database, the first admin's
 *     one-time password
 * @param database the database to use; none means the embedded MariaDB
 * @param tokens lifetimes of the tokens the platform issues
 * @param login how failed logins are throttled
 */
@ConfigurationProperties("airlock")
public record AirlockProperties(
    @DefaultValue(".airlock/data") Path dataDir,
    @DefaultValue Database database,
    @DefaultValue Tokens tokens,
    @DefaultValue Login login) {

  /**
   * @param url {@code mysql://user:password@host:port/database} of a MySQL 8 or MariaDB 10.11+
   *     server; empty for the embedded database
   * @param poolSize the most connections the platform opens
   */
  public record Database(@DefaultValue("") String url, @DefaultValue("16") int poolSize) {}

  /**
   * @param issuer the {@code iss} of every token
   * @param accessTtl lifetime of an access token (at most 15 minutes)
   * @param refreshTtl lifetime of a refresh token; each refresh issues a new one
   * @param sessionMaxAge after this a login session cannot be refreshed any more
   */
  public record Tokens(
      @DefaultValue("airlock") String issuer,
      @DefaultValue("10m") Duration accessTtl,
      @DefaultValue("12h") Duration refreshTtl,
      @DefaultValue("7d") Duration sessionMaxAge) {
    public Tokens {
      if (accessTtl.isNegative()
          || accessTtl.isZero()
          || accessTtl.compareTo(Duration.ofMinutes(15)) > 0) {
        throw new IllegalArgumentException(
            "airlock.tokens.access-ttl: " + accessTtl + " (expected: 1s..15m)");
      }
    }
  }

  /**
   * @param maxFailures consecutive failures before the account is locked
   * @param firstLock the first lock's length; each further failure doubles it
   * @param maxLock the longest lock
   */
  public record Login(
      @DefaultValue("5") int maxFailures,
      @DefaultValue("30s") Duration firstLock,
      @DefaultValue("1h") Duration maxLock) {}
}
