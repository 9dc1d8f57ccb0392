package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.PlatformTestBase;
import dev.airlock.platform.database.Rows;
import dev.airlock.platform.job.Job;
import dev.airlock.platform.job.JobContext;
import dev.airlock.platform.job.JobRuns;
import dev.airlock.platform.job.ScheduledJobs;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/** What the mail tests do through the API and read from the database. */
abstract class MailTestSupport extends PlatformTestBase {

  static final String PASSWORD = "a long enough password";
  static final Duration WITHIN = Duration.ofSeconds(60);

  @Autowired DatabaseClient db;
  @Autowired ConnectionFactory connections;
  @Autowired JobRuns runs;
  @Autowired AirlockProperties properties;
  @Autowired ApplicationEventPublisher events;

  /**
   * Runs {@code job} once on a second scheduler that announces to this platform's listeners: the
   * real path of a JobFailed event.
   */
  void runFailing(Job job) {
    ScheduledJobs replica = new ScheduledJobs(connections, List.of(job), runs, events, properties);
    try {
      assertThat(replica.runScheduled(job.name()).block(Duration.ofSeconds(30)))
          .as("ran " + job.name())
          .isTrue();
    } finally {
      replica.close();
    }
  }

  /** Logs in from a browser; returns the token pair. */
  @SuppressWarnings("unchecked")
  Map<String, Object> loginFrom(String username, String userAgent) {
    return http.post()
        .uri("/api/v1/auth/login")
        .header(HttpHeaders.USER_AGENT, userAgent)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("username", username, "password", PASSWORD))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody();
  }

  /** Creates a user (with that address, or none) and returns the username. */
  String user(String email, List<String> roles) throws Exception {
    String username = "u-" + suffix();
    Map<String, Object> body = new HashMap<>();
    body.put("username", username);
    body.put("password", PASSWORD);
    body.put("roles", roles);
    if (email != null) {
      body.put("email", email);
    }
    String token = adminToken();
    http.post()
        .uri("/api/v1/users")
        .headers(h -> h.setBearerAuth(token))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange()
        .expectStatus()
        .isCreated();
    return username;
  }

  String userId(String username) {
    return db.sql("SELECT id FROM users WHERE username = :u")
        .bind("u", username)
        .map(row -> row.get("id", String.class))
        .one()
        .block(Duration.ofSeconds(10));
  }

  void patch(String uri, Map<String, Object> body) throws Exception {
    String token = adminToken();
    http.patch()
        .uri(uri)
        .headers(h -> h.setBearerAuth(token))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(body)
        .exchange()
        .expectStatus()
        .isOk();
  }

  /**
   * A ready container of {@code owner}, written straight to the table: launching one needs a
   * provisioner and a Docker Engine, and the warning depends only on the row (owner, state, TTL).
   * It has no provisioner, so the reaper leaves it alone until its TTL ends.
   */
  String container(String owner, Instant expiresAt) {
    String id = UUID.randomUUID().toString();
    Instant now = Rows.now();
    db.sql(
            "INSERT INTO containers (id, image_id, image_name, owner_id, owner_name, warm, state,"
                + " labels, ttl_seconds, idle_timeout_seconds, created_at, ready_at, expires_at)"
                + " VALUES (:id, :image, 'chromium', :owner, :ownerName, FALSE, 'ready', '{}',"
                + " 3600, 0, :now, :now, :expires)")
        .bind("id", id)
        .bind("image", UUID.randomUUID().toString())
        .bind("owner", userId(owner))
        .bind("ownerName", owner)
        .bind("now", Rows.column(now))
        .bind("expires", Rows.column(expiresAt))
        .then()
        .block(Duration.ofSeconds(10));
    return id;
  }

  LocalDateTime warnedAt(String container) {
    return db.sql("SELECT expiry_warned_at FROM containers WHERE id = :id")
        .bind("id", container)
        .map(row -> Optional.ofNullable(row.get(0, LocalDateTime.class)))
        .one()
        .block(Duration.ofSeconds(10))
        .orElse(null);
  }

  /**
   * Runs a job by hand through the API (waiting if a scheduled run holds it) until it succeeds;
   * returns its message.
   */
  @SuppressWarnings("unchecked")
  String runJob(String job) throws Exception {
    String token = adminToken();
    Instant deadline = Instant.now().plus(WITHIN);
    String runId = null;
    while (runId == null) {
      var result =
          http.post()
              .uri("/api/v1/jobs/" + job + "/runs")
              .headers(h -> h.setBearerAuth(token))
              .exchange()
              .expectBody(Map.class)
              .returnResult();
      if (result.getStatus().value() == 202) {
        runId = (String) result.getResponseBody().get("id");
      } else {
        assertThat(result.getStatus().value()).as("job-running, or accepted").isEqualTo(409);
        assertThat(Instant.now()).isBefore(deadline);
        Thread.sleep(200);
      }
    }
    String id = runId;
    while (true) {
      Map<String, Object> run = getJson("/api/v1/jobs/" + job + "/runs", token);
      Map<String, Object> mine =
          ((List<Map<String, Object>>) run.get("items"))
              .stream().filter(r -> id.equals(r.get("id"))).findFirst().orElseThrow();
      if (!"running".equals(mine.get("outcome"))) {
        assertThat(mine.get("outcome")).isEqualTo("succeeded");
        return (String) mine.get("message");
      }
      assertThat(Instant.now()).isBefore(deadline);
      Thread.sleep(200);
    }
  }

  long queuedFor(String email) {
    return db.sql("SELECT COUNT(*) FROM mail_outbox WHERE recipient = :to")
        .bind("to", email)
        .map(row -> row.get(0, Long.class))
        .one()
        .block(Duration.ofSeconds(10));
  }

  static Job failing(String name, String why) {
    return new Job() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String description() {
        return "a job that fails";
      }

      @Override
      public String defaultCron() {
        return "0 0 0 1 1 *";
      }

      @Override
      public Mono<String> run(JobContext run) {
        return Mono.error(new IllegalStateException(why));
      }
    };
  }

  static String address(String who) {
    return who + "-" + suffix() + "@example.test";
  }

  static String suffix() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
