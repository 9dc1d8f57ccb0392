package dev.airlock.platform;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
 * @param containers quotas and timings of browser-isolation containers
 * @param provisioning how the platform calls provisioners (mutual TLS, timeouts, resilience)
 * @param jobs per-job schedules, by job name ({@code GET /api/v1/jobs} lists the jobs)
 * @param audit how long audit events stay in the live log and in the archive
 * @param mail notifications by e-mail through an SMTP server (off unless enabled)
 * @param secrets the key that encrypts secrets the platform stores (directory bind passwords)
 */
@ConfigurationProperties("airlock")
public record AirlockProperties(
    @DefaultValue(".airlock/data") Path dataDir,
    @DefaultValue Database database,
    @DefaultValue Tokens tokens,
    @DefaultValue Login login,
    @DefaultValue Ice ice,
    @DefaultValue Sessions sessions,
    @DefaultValue Signal signal,
    @DefaultValue Containers containers,
    @DefaultValue Provisioning provisioning,
    Map<String, JobSettings> jobs,
    @DefaultValue Audit audit,
    @DefaultValue Mail mail,
    @DefaultValue Secrets secrets,
    @DefaultValue Trust trust) {

  public AirlockProperties {
    jobs = jobs == null ? Map.of() : Map.copyOf(jobs);
  }

  /**
   * One job's settings, {@code airlock.jobs.<name>.*}; unset values keep the job's defaults.
   *
   * @param cron when it runs: six fields, second minute hour day month weekday (UTC), or a macro
   *     such as {@code @daily}
   * @param enabled whether the schedule fires (an administrator can still run it by hand)
   */
  public record JobSettings(String cron, Boolean enabled) {}

  /**
   * The key (AES-256) that encrypts the secrets the platform stores, such as directory sources'
   * bind passwords. Replicas sharing a database must share the key.
   *
   * @param key the key itself, 32 bytes in base64 ({@code AIRLOCK_SECRETS_KEY}, e.g. from {@code
   *     openssl rand -base64 32}); when set, {@code keyFile} is not used
   * @param keyFile the file holding the key (base64); empty: {@code <data-dir>/secrets.key},
   *     created (mode 0600) with a random key at first start
   */
  public record Secrets(@DefaultValue("") String key, @DefaultValue("") String keyFile) {
    public Secrets {
      if (!key.isBlank()) {
        byte[] decoded;
        try {
          decoded = java.util.Base64.getDecoder().decode(key.trim());
        } catch (IllegalArgumentException e) {
          decoded = new byte[0];
        }
        if (decoded.length != 32) {
          throw new IllegalArgumentException(
              "airlock.secrets.key: not 32 bytes in base64 (expected: a key such as the output"
                  + " of 'openssl rand -base64 32')");
        }
      }
    }

    /** The key's 32 bytes, or null when it comes from {@link #keyFile()}. */
    public byte[] keyBytes() {
      return key.isBlank() ? null : java.util.Base64.getDecoder().decode(key.trim());
    }

    /** Never shows the key. */
    @Override
    public String toString() {
      return "Secrets[key=" + (key.isBlank() ? "" : "(set)") + ", keyFile=" + keyFile + "]";
    }
  }

  /**
   * @param retention events older than this leave the live log for the archive (job {@code
   *     audit-archive})
   * @param archiveRetention archive batches whose newest event is older than this are deleted;
   *     {@code 0} keeps them for ever
   * @param batchSize events per archive batch
   */
  public record Audit(
      @DefaultValue("90d") Duration retention,
      @DefaultValue("365d") Duration archiveRetention,
      @DefaultValue("1000") int batchSize) {
    public Audit {
      if (retention.isNegative() || retention.isZero()) {
        throw new IllegalArgumentException(
            "airlock.audit.retention: " + retention + " (expected: more than 0)");
      }
      if (archiveRetention.isNegative()) {
        throw new IllegalArgumentException(
            "airlock.audit.archive-retention: " + archiveRetention + " (expected: 0 or more)");
      }
      if (batchSize < 1 || batchSize > 100_000) {
        throw new IllegalArgumentException(
            "airlock.audit.batch-size: " + batchSize + " (expected: 1..100000)");
      }
    }
  }

  /**
   * @param enabled whether the platform sends notifications; when false nothing is queued
   * @param host the SMTP server
   * @param port its port: usually 587 with {@code starttls}, 465 with {@code tls}
   * @param security {@code starttls} (plain connection upgraded to TLS, refused if the server does
   *     not offer it), {@code tls} (TLS from the first byte, "SMTPS") or {@code none}
   * @param username the SMTP login, or empty to send without logging in
   * @param password its password (never logged)
   * @param from the sender, e.g. {@code Airlock <airlock@example.com>}
   * @param baseUrl the portal's URL, for links in mails; empty for none
   * @param templatesDir a directory of operators' templates ({@code <name>.subject.mustache},
   *     {@code <name>.txt.mustache}) that replace the built-in ones file by file; empty for none
   * @param expiryWarning how long before a container's TTL ends its owner is warned
   * @param timeout the longest a connection to the SMTP server, and each read and write, may take
   * @param caFile a PEM file of the CA(s) that signed the SMTP server's certificate, for a private
   *     CA; empty for the JVM's trusted CAs
   * @param maxAttempts delivery attempts of one mail before it is given up
   * @param retryBackoff the wait after the first failed attempt; it doubles after each further one,
   *     up to an hour
   */
  public record Mail(
      @DefaultValue("false") boolean enabled,
      @DefaultValue("") String host,
      @DefaultValue("587") int port,
      @DefaultValue("starttls") String security,
      @DefaultValue("") String username,
      @DefaultValue("") String password,
      @DefaultValue("") String from,
      @DefaultValue("") String baseUrl,
      @DefaultValue("") String templatesDir,
      @DefaultValue("10m") Duration expiryWarning,
      @DefaultValue("30s") Duration timeout,
      @DefaultValue("") String caFile,
      @DefaultValue("10") int maxAttempts,
      @DefaultValue("30s") Duration retryBackoff) {

    /** The values of {@code airlock.mail.security}. */
    public static final java.util.List<String> SECURITY =
        java.util.List.of("starttls", "tls", "none");

    public Mail {
      if (enabled && host.isBlank()) {
        throw new IllegalArgumentException(
            "airlock.mail.host: empty (expected: the SMTP server's host name, since"
                + " airlock.mail.enabled is true)");
      }
      if (enabled && from.isBlank()) {
        throw new IllegalArgumentException(
            "airlock.mail.from: empty (expected: the sender's address, e.g. airlock@example.com,"
                + " since airlock.mail.enabled is true)");
      }
      if (!from.isBlank()) {
        try {
          new jakarta.mail.internet.InternetAddress(from, true);
        } catch (jakarta.mail.internet.AddressException e) {
          throw new IllegalArgumentException(
              "airlock.mail.from: '"
                  + from
                  + "' (expected: an e-mail address, e.g. airlock@example.com or"
                  + " Airlock <airlock@example.com>)");
        }
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("airlock.mail.port: " + port + " (expected: 1..65535)");
      }
      if (!SECURITY.contains(security)) {
        throw new IllegalArgumentException(
            "airlock.mail.security: '" + security + "' (expected: starttls, tls or none)");
      }
      if (!password.isEmpty() && username.isBlank()) {
        throw new IllegalArgumentException(
            "airlock.mail.password: set without airlock.mail.username (expected: both, or"
                + " neither to send without logging in)");
      }
      if (!baseUrl.isBlank() && !baseUrl.matches("(?i)https?://[^\\s/?#]+[^\\s]*")) {
        throw new IllegalArgumentException(
            "airlock.mail.base-url: '"
                + baseUrl
                + "' (expected: empty, or an http(s) URL such as https://airlock.example.com)");
      }
      if (expiryWarning.compareTo(Duration.ofMinutes(1)) < 0
          || expiryWarning.compareTo(Duration.ofHours(24)) > 0) {
        throw new IllegalArgumentException(
            "airlock.mail.expiry-warning: " + expiryWarning + " (expected: 1m..24h)");
      }
      if (timeout.compareTo(Duration.ofSeconds(1)) < 0
          || timeout.compareTo(Duration.ofMinutes(5)) > 0) {
        throw new IllegalArgumentException(
            "airlock.mail.timeout: " + timeout + " (expected: 1s..5m)");
      }
      if (maxAttempts < 1 || maxAttempts > 100) {
        throw new IllegalArgumentException(
            "airlock.mail.max-attempts: " + maxAttempts + " (expected: 1..100)");
      }
      if (retryBackoff.compareTo(Duration.ofSeconds(1)) < 0
          || retryBackoff.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException(
            "airlock.mail.retry-backoff: " + retryBackoff + " (expected: 1s..1h)");
      }
    }

    /** Without the password, which must not reach a log. */
    @Override
    public String toString() {
      return "Mail[enabled="
          + enabled
          + ", host="
          + host
          + ", port="
          + port
          + ", security="
          + security
          + ", username="
          + username
          + ", password="
          + (password.isEmpty() ? "" : "(set)")
          + ", from="
          + from
          + ", baseUrl="
          + baseUrl
          + ", templatesDir="
          + templatesDir
          + ", expiryWarning="
          + expiryWarning
          + ", timeout="
          + timeout
          + ", caFile="
          + caFile
          + ", maxAttempts="
          + maxAttempts
          + ", retryBackoff="
          + retryBackoff
          + "]";
    }
  }

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
      @DefaultValue("false") boolean forceRelay,
      @DefaultValue("60s") Duration connectTokenTtl,
      @DefaultValue("15m") Duration idleDisconnect,
      @DefaultValue("30s") Duration consentTimeout) {
    public Sessions {
      if (idleDisconnect.isNegative() || idleDisconnect.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException(
            "airlock.sessions.idle-disconnect: " + idleDisconnect + " (expected: 0 (never)..24h)");
      }
      if (consentTimeout.isNegative() || consentTimeout.compareTo(Duration.ofMinutes(10)) > 0) {
        throw new IllegalArgumentException(
            "airlock.sessions.consent-timeout: "
                + consentTimeout
                + " (expected: 0 (grant at once)..10m)");
      }
      if (connectTokenTtl.isNegative()
          || connectTokenTtl.isZero()
          || connectTokenTtl.compareTo(Duration.ofSeconds(60)) > 0) {
        throw new IllegalArgumentException(
            "airlock.sessions.connect-token-ttl: " + connectTokenTtl + " (expected: 1s..60s)");
      }
    }
  }

  /**
   * Trusted clusters ({@code docs/trusted-clusters.md}).
   *
   * @param clusterName this cluster's name, which it gives a leaf cluster with every connection it
   *     routes there (the leaf maps roles per root cluster)
   * @param root as a leaf: the name of the root cluster whose users this cluster's link may act
   *     for; empty: none (the default), and requests on behalf of another cluster are refused
   * @param linkUser as a leaf: the local user whose API keys the link uses; only they may act for
   *     the root's users (default {@code cluster-link}, a built-in account made at start with its
   *     key in {@code <data-dir>/cluster-link-key})
   * @param roleMap as a leaf: root role → the local roles it grants here ({@code
   *     airlock.trust.role-map.dev=ops,viewer}); a root role not listed grants nothing
   */
  public record Trust(
      @DefaultValue("airlock") String clusterName,
      @DefaultValue("") String root,
      @DefaultValue("cluster-link") String linkUser,
      Map<String, List<String>> roleMap) {

    public Trust {
      roleMap = roleMap == null ? Map.of() : Map.copyOf(roleMap);
    }

    /** Whether this cluster is a leaf that accepts a root's users. */
    public boolean leaf() {
      return !root.isEmpty() && !linkUser.isEmpty();
    }
  }

  /**
   * @param keyFile where the platform writes, at first start, the API key of the built-in {@code
   *     signal-node} account, for a signal node on the same host; empty to create none
   * @param nodeTimeout a signal node not heard from for this long is offline, and so are its agents
   */
  public record Signal(
      @DefaultValue("signal-node-key") String keyFile, @DefaultValue("30s") Duration nodeTimeout) {}

  /**
   * @param maxPerUser containers one user may hold at once (not yet deleted or failed)
   * @param startTimeout a container not ready this long after it was requested fails
   * @param signalUrl the signal node URL given to container agents; empty: the most recently seen
   *     signal node's public URL
   * @param agentCaFile a CA file mounted for container agents that reach signal over wss:// with a
   *     private CA; empty for none
   * @param idempotencyWindow how long an {@code Idempotency-Key} keeps returning its container
   */
  public record Containers(
      @DefaultValue("5") int maxPerUser,
      @DefaultValue("120s") Duration startTimeout,
      @DefaultValue("") String signalUrl,
      @DefaultValue("") String agentCaFile,
      @DefaultValue("24h") Duration idempotencyWindow) {
    public Containers {
      if (maxPerUser < 1) {
        throw new IllegalArgumentException(
            "airlock.containers.max-per-user: " + maxPerUser + " (expected: 1 or more)");
      }
    }
  }

  /**
   * @param certFile the platform's client certificate (PEM), signed by the provisioners' CA
   * @param keyFile its private key (PEM, PKCS#8)
   * @param caFile the CA that signed the provisioners' server certificates
   * @param callTimeout timeout of one inspect, list, delete or capacity call
   * @param createTimeout timeout of one create call (the engine creates and starts the container)
   * @param retries further attempts of a call that failed for a reason worth retrying (idempotent
   *     calls only; creation is idempotent by key)
   * @param retryBackoff the first retry's delay; each further one doubles it, with jitter
   * @param failureRateThreshold percentage of failed calls that opens a provisioner's circuit
   * @param minimumCalls calls in the window before the failure rate counts
   * @param openDuration how long an open circuit refuses calls before letting a few through
   * @param maxConcurrentCalls calls in flight to one provisioner (its bulkhead); more fail at once
   */
  public record Provisioning(
      @DefaultValue("") String certFile,
      @DefaultValue("") String keyFile,
      @DefaultValue("") String caFile,
      @DefaultValue("5s") Duration callTimeout,
      @DefaultValue("30s") Duration createTimeout,
      @DefaultValue("2") int retries,
      @DefaultValue("200ms") Duration retryBackoff,
      @DefaultValue("50") float failureRateThreshold,
      @DefaultValue("4") int minimumCalls,
      @DefaultValue("15s") Duration openDuration,
      @DefaultValue("16") int maxConcurrentCalls) {}
}
