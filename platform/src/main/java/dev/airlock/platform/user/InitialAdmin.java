package dev.airlock.platform.user;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.AuditOutcome;
import dev.airlock.platform.audit.AuditLog;
import dev.airlock.platform.audit.AuditRecord;
import dev.airlock.platform.auth.PasswordHasher;
import dev.airlock.platform.auth.Secrets;
import dev.airlock.platform.cluster.ClusterLinkAccount;
import dev.airlock.platform.database.EmbeddedDatabase;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.signalnode.SignalNodeAccount;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * At first start (no user exists) creates the first administrator, {@code admin}, with a random
 * one-time password that must be changed at first login. The password is printed once on the
 * console (never through the log) and kept in {@code <data-dir>/initial-admin-password} (mode 0600)
 * until it is changed. Then prints where Airlock is and how to log in.
 */
@Component
public class InitialAdmin {

  /** The first administrator's username. */
  public static final String USERNAME = "admin";

  private static final Logger log = LoggerFactory.getLogger(InitialAdmin.class);

  private final UserRepository users;
  private final PasswordHasher hasher;
  private final AuditLog audit;
  private final TransactionalOperator tx;
  private final AirlockProperties properties;
  private final EmbeddedDatabase database;
  private final SignalNodeAccount signalNodeAccount;
  private final ClusterLinkAccount clusterLinkAccount;
  private final PrintStream console = System.out;
  private volatile boolean ready;

  public InitialAdmin(
      UserRepository users,
      PasswordHasher hasher,
      AuditLog audit,
      TransactionalOperator tx,
      AirlockProperties properties,
      EmbeddedDatabase database,
      SignalNodeAccount signalNodeAccount,
      ClusterLinkAccount clusterLinkAccount) {
    this.clusterLinkAccount = clusterLinkAccount;
    this.users = users;
    this.hasher = hasher;
    this.audit = audit;
    this.tx = tx;
    this.properties = properties;
    this.database = database;
    this.signalNodeAccount = signalNodeAccount;
  }

  /** The file holding the one-time password until it is changed. */
  public Path passwordFile() {
    return properties.dataDir().toAbsolutePath().normalize().resolve("initial-admin-password");
  }

  @EventListener
  public void onReady(ApplicationReadyEvent event) {
    int port =
        event.getApplicationContext() instanceof WebServerApplicationContext web
            ? web.getWebServer().getPort()
            : 8080;
    users
        .count()
        .flatMap(count -> count == 0 ? create() : Mono.just(""))
        .flatMap(
            password ->
                signalNodeAccount
                    .ensureKeyFile()
                    .map(file -> new String[] {password, file.toString()})
                    .defaultIfEmpty(new String[] {password, ""}))
        .flatMap(
            passwordAndKeyFile ->
                clusterLinkAccount
                    .ensureKeyFile()
                    .doOnNext(
                        file ->
                            log.info(
                                "Trusting root cluster {}: the link's API key is in {}",
                                properties.trust().root(),
                                file))
                    .thenReturn(passwordAndKeyFile))
        .subscribe(
            passwordAndKeyFile -> {
              ready = true;
              banner(port, passwordAndKeyFile[0], passwordAndKeyFile[1]);
            },
            e -> log.error("Cannot create the first administrator", e));
  }

  /** True once someone can log in: the first administrator exists (and its password file). */
  public boolean ready() {
    return ready;
  }

  /** Forgets the one-time password once {@code userId} has chosen their own. */
  public void passwordChanged(UUID userId, String username) {
    if (!USERNAME.equals(username)) {
      return;
    }
    try {
      Files.deleteIfExists(passwordFile());
    } catch (IOException e) {
      log.warn("Cannot delete {}: {}", passwordFile(), e.toString());
    }
  }

  private Mono<String> create() {
    String password = Secrets.password(20);
    UUID id = UUID.randomUUID();
    return hasher
        .hash(password)
        .flatMap(
            hash -> {
              UserRow admin =
                  UserRow.newLocal(
                      id,
                      USERNAME,
                      "Administrator",
                      null,
                      hash,
                      Map.of(),
                      true,
                      List.of("admin"),
                      Rows.now());
              return tx.transactional(
                  users
                      .insert(admin)
                      .then(
                          audit.append(
                              new AuditRecord(
                                  "system",
                                  null,
                                  "user.create",
                                  "user",
                                  id + " (" + USERNAME + ", first administrator)",
                                  AuditOutcome.SUCCESS,
                                  null,
                                  null))));
            })
        .then(Mono.fromCallable(() -> Secrets.writePrivateFile(passwordFile(), password)))
        .thenReturn(password);
  }

  private void banner(int port, String password, String signalKeyFile) {
    String url = "http://localhost:" + port;
    StringBuilder text = new StringBuilder();
    text.append("\n  Airlock is ready at ").append(url).append('\n');
    text.append("    API docs (Swagger UI): ").append(url).append("/swagger-ui.html\n");
    text.append("    Health:                ").append(url).append("/api/v1/health\n");
    if (!password.isEmpty()) {
      text.append("\n  First administrator (shown this once):\n");
      text.append("    username: ").append(USERNAME).append('\n');
      text.append("    password: ").append(password).append('\n');
      text.append("    This one-time password must be changed at first login.\n");
      text.append("    Until then it is also in ").append(passwordFile()).append('\n');
    } else if (Files.exists(passwordFile())) {
      text.append("\n  Log in as ").append(USERNAME).append(" with the one-time password in ");
      text.append(passwordFile()).append('\n');
    }
    if (!signalKeyFile.isEmpty()) {
      text.append("\n  Signal nodes on this host authenticate with the API key in ")
          .append(signalKeyFile)
          .append('\n');
    }
    text.append("\n  Data: ").append(properties.dataDir().toAbsolutePath().normalize());
    text.append(
        database.embedded()
            ? " (embedded MariaDB in " + database.dataDir() + ")"
            : " (database " + database.url() + ")");
    text.append("\n  Stop with Ctrl-C; starting again keeps the data.\n");
    console.println(text);
    console.flush();
  }
}
