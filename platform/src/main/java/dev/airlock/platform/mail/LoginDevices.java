package dev.airlock.platform.mail;

import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.user.UserRow;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The {@code login_devices} table: each device a user logged in from with their password, known by
 * its User-Agent and source network (the /24 of an IPv4 address, the /64 of an IPv6 one, so a
 * changing address in one network is the same device). A login from a device new to a user who has
 * logged in from another one before mails them ({@code new-device-login}): time, address and
 * browser, never a token.
 */
@Component
public class LoginDevices {

  private static final Logger log = LoggerFactory.getLogger(LoginDevices.class);

  private static final int MAX_USER_AGENT = 512;

  /** The longest a login waits for its device to be recorded. */
  static final Duration LONGEST = Duration.ofSeconds(5);

  private final DatabaseClient db;
  private final MailOutbox outbox;

  public LoginDevices(DatabaseClient db, MailOutbox outbox) {
    this.db = db;
    this.outbox = outbox;
  }

  /**
   * Records the device of {@code user}'s successful password login and queues the mail if it is
   * new; completes within {@link #LONGEST}, and empty whatever happens: a login never fails because
   * of this.
   */
  public Mono<Void> loggedIn(UserRow user, ServerWebExchange exchange) {
    return Mono.defer(
            () -> {
              InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
              InetAddress address = remote == null ? null : remote.getAddress();
              String userAgent =
                  exchange.getRequest().getHeaders().getFirst(HttpHeaders.USER_AGENT);
              return record(user, address, userAgent, Rows.now());
            })
        .timeout(LONGEST)
        .onErrorResume(
            e -> {
              log.warn(
                  "login of {}: could not record its device: {}", user.username(), e.toString());
              return Mono.empty();
            })
        .then();
  }

  /**
   * Records the device; emits true when it is new to a user known from another device and a mail
   * was queued for them.
   */
  Mono<Boolean> record(UserRow user, InetAddress address, String userAgent, Instant now) {
    String agent = userAgent == null ? "" : userAgent.strip();
    if (agent.length() > MAX_USER_AGENT) {
      agent = agent.substring(0, MAX_USER_AGENT);
    }
    String network = network(address);
    String fingerprint = Secrets.sha256(network + "\n" + agent);
    String shownAgent = agent.isEmpty() ? "(none sent)" : agent;
    String shownAddress = address == null ? "unknown" : address.getHostAddress();
    return db.sql(
            "INSERT IGNORE INTO login_devices (user_id, fingerprint, user_agent, network,"
                + " first_seen_at, last_seen_at) VALUES (:user, :fingerprint, :agent, :network,"
                + " :now, :now)")
        .bind("user", user.id().toString())
        .bind("fingerprint", fingerprint)
        .bind("agent", agent)
        .bind("network", network)
        .bind("now", Rows.column(now))
        .fetch()
        .rowsUpdated()
        .flatMap(
            inserted -> {
              if (inserted == 0) {
                return db.sql(
                        "UPDATE login_devices SET last_seen_at = :now WHERE user_id = :user"
                            + " AND fingerprint = :fingerprint")
                    .bind("now", Rows.column(now))
                    .bind("user", user.id().toString())
                    .bind("fingerprint", fingerprint)
                    .then()
                    .thenReturn(false);
              }
              return db.sql(
                      "SELECT COUNT(*) FROM login_devices WHERE user_id = :user"
                          + " AND fingerprint <> :fingerprint")
                  .bind("user", user.id().toString())
                  .bind("fingerprint", fingerprint)
                  .map(row -> row.get(0, Long.class))
                  .one()
                  .flatMap(
                      others ->
                          others == 0
                              ? Mono.just(false)
                              : outbox.send(
                                  new MailRecipient(
                                      user.username(), user.displayName(), user.email()),
                                  "new-device-login",
                                  Map.of(
                                      "time", MailTemplates.TIME.format(now),
                                      "address", shownAddress,
                                      "network", network,
                                      "userAgent", shownAgent)));
            });
  }

  /** The /24 of an IPv4 address or the /64 of an IPv6 one, e.g. {@code 192.0.2.0/24}. */
  static String network(InetAddress address) {
    if (address == null) {
      return "unknown";
    }
    byte[] bytes = address.getAddress();
    boolean v4 = address instanceof Inet4Address;
    int keep = v4 ? 3 : 8;
    byte[] prefix = Arrays.copyOf(Arrays.copyOf(bytes, keep), bytes.length);
    try {
      return InetAddress.getByAddress(prefix).getHostAddress() + (v4 ? "/24" : "/64");
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e); // cannot happen: 4 or 16 bytes
    }
  }
}
