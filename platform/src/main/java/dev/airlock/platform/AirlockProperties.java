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
 * @param ice the STUN and TURN servers handed to both ends of a session
 * @param sessions how remote sessions are opened
 * @param signal how signal nodes reach the platform
 */
@ConfigurationProperties("airlock")
public record AirlockProperties(
    @DefaultValue(".airlock/data") Path dataDir,
    @DefaultValue Database database,
    @DefaultValue Tokens tokens,
    @DefaultValue Login login,
    @DefaultValue Ice ice,
    @DefaultValue Sessions sessions,
    @DefaultValue Signal signal) {

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

  /**
   * @param stunUrls {@code stun:host:port} URLs
   * @param turnUrls {@code turn:host:port?transport=udp} URLs; each session gets a credential of
   *     its own, derived from {@code turnSecret} (coturn's {@code use-auth-secret})
   * @param turnSecret coturn's {@code static-auth-secret}
   * @param turnCredentialTtl how long a session's TURN credential is valid
   */
  public record Ice(
      @DefaultValue("") java.util.List<String> stunUrls,
      @DefaultValue("") java.util.List<String> turnUrls,
      @DefaultValue("") String turnSecret,
      @DefaultValue("12h") Duration turnCredentialTtl) {}

  /**
   * @param forceRelay when true every session goes through the signal node's relay, never peer to
   *     peer (a policy for networks that forbid direct traffic)
   * @param connectTokenTtl lifetime of a connect token (at most 60 seconds)
   */
  public record Sessions(
      @DefaultValue("false") boolean forceRelay, @DefaultValue("60s") Duration connectTokenTtl) {
    public Sessions {
      if (connectTokenTtl.isNegative()
          || connectTokenTtl.isZero()
          || connectTokenTtl.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException(
            "airlock.sessions.connect-token-ttl: " + connectTokenTtl + " (expected: 1s..60s)");
      }
    }
  }

  /**
   * @param keyFile where the platform writes, at first start, the API key of the built-in {@code
   *     signal-node} account, for a signal node on the same host; empty to create none
   * @param nodeTimeout a signal node not heard from for this long is offline, and so are its agents
   */
  public record Signal(
      @DefaultValue("signal-node-key") String keyFile, @DefaultValue("30s") Duration nodeTimeout) {}
}
