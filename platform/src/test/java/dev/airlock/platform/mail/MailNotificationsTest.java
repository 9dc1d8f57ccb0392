package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Mail on, through the real SMTP server of {@code deploy/test-deps.sh} (aiosmtpd), the mails read
 * back from its Maildir: a login from a new device, a failed job and a container about to expire
 * each mail the right people once; while the server does not answer, mail waits in the outbox and
 * goes once it is back; an operator's template replaces the built-in one.
 *
 * <p>The context is closed after this class so that its mail jobs do not act on other classes' rows
 * in the shared test database.
 */
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class MailNotificationsTest extends MailTestSupport {

  private static final Path TEMPLATES = templates();

  @Autowired MailOutbox outbox;

  @DynamicPropertySource
  static void mail(DynamicPropertyRegistry registry) {
    registry.add("airlock.mail.enabled", () -> "true");
    registry.add("airlock.mail.host", TestSmtp::host);
    registry.add("airlock.mail.port", TestSmtp::port);
    registry.add("airlock.mail.security", () -> "none");
    registry.add("airlock.mail.from", () -> "Airlock <airlock@example.test>");
    registry.add("airlock.mail.base-url", () -> "https://airlock.example.test");
    registry.add("airlock.mail.templates-dir", TEMPLATES::toString);
    registry.add("airlock.mail.timeout", () -> "2s");
    registry.add("airlock.mail.retry-backoff", () -> "1s");
  }

  @Test
  void aLoginFromANewDeviceMailsTheUserOnce() throws Exception {
    String email = address("alice");
    String alice = user(email, List.of());
    String firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    String other = "Mozilla/5.0 <Other & Co> \"Browser\"/2.0";

    loginFrom(alice, firefox);
    loginFrom(alice, firefox);
    Map<String, Object> tokens = loginFrom(alice, other);

    MimeMessage mail =
        TestSmtp.await(email, WITHIN, m -> TestSmtp.subject(m).contains("new sign-in"));
    assertThat(TestSmtp.subject(mail)).isEqualTo("Airlock: new sign-in to your account " + alice);
    assertThat(mail.getFrom()[0].toString()).isEqualTo("Airlock <airlock@example.test>");
    assertThat(mail.getHeader("Auto-Submitted")).containsExactly("auto-generated");
    assertThat(mail.getMessageID()).endsWith(".airlock@example.test>");
    String body = TestSmtp.body(mail);
    assertThat(body)
        .contains("Hello " + alice + ",")
        .contains("Address:  127.0.0.1 (network 127.0.0.0/24)")
        .contains("Browser:  " + other)
        .contains("change it now\nat https://airlock.example.test, and tell")
        .doesNotContain((String) tokens.get("accessToken"))
        .doesNotContain((String) tokens.get("refreshToken"));

    // The same device again is not new; a third one is, and only it mails again.
    loginFrom(alice, other);
    loginFrom(alice, "curl/8.0");
    TestSmtp.await(email, WITHIN, m -> TestSmtp.body(m).contains("Browser:  curl/8.0"));
    assertThat(TestSmtp.to(email))
        .as("the first device (first login ever) and known devices mailed nothing")
        .extracting(TestSmtp::body)
        .hasSize(2)
        .anySatisfy(text -> assertThat(text).contains(other))
        .anySatisfy(text -> assertThat(text).contains("curl/8.0"));
  }

  @Test
  void aFailedJobMailsTheEnabledAdministratorsWithAnAddress() throws Exception {
    String adminEmail = address("ops");
    String admin = user(adminEmail, List.of("admin"));
    String disabledEmail = address("former-ops");
    String disabled = user(disabledEmail, List.of("admin"));
    patch("/api/v1/users/" + userId(disabled), Map.of("disabled", true));
    String userEmail = address("not-ops");
    user(userEmail, List.of());

    String job = "nightly-" + suffix();
    runFailing(failing(MailDelivery.JOB, "the SMTP server is gone"));
    runFailing(failing(job, "directory unreachable"));

    MimeMessage mail =
        TestSmtp.await(adminEmail, WITHIN, m -> TestSmtp.subject(m).contains("job " + job));
    assertThat(TestSmtp.subject(mail))
        .as("the built-in subject: only the body is overridden")
        .isEqualTo("Airlock: job " + job + " failed");
    assertThat(TestSmtp.body(mail))
        .as("the operator's body template (airlock.mail.templates-dir)")
        .startsWith("[site template] " + admin + ": job " + job + " failed: directory unreachable")
        .containsPattern("run [0-9a-f-]{36}");
    assertThat(TestSmtp.to(adminEmail))
        .as("no mail about the mail job's own failure")
        .extracting(TestSmtp::subject)
        .containsExactly("Airlock: job " + job + " failed");
    assertThat(queuedFor(disabledEmail)).as("a disabled administrator").isZero();
    assertThat(queuedFor(userEmail)).as("a user who is no administrator").isZero();
  }

  @Test
  void aContainerAboutToExpireMailsItsOwnerOnce() throws Exception {
    String email = address("carol");
    String carol = user(email, List.of());
    String noAddress = user(null, List.of());
    Instant now = Instant.now();
    String soon = container(carol, now.plus(Duration.ofMinutes(5)));
    String later = container(carol, now.plus(Duration.ofHours(2)));
    String unreachable = container(noAddress, now.plus(Duration.ofMinutes(3)));

    runJob(ContainerExpiryWarning.JOB);

    MimeMessage mail = TestSmtp.await(email, WITHIN, m -> TestSmtp.body(m).contains(soon));
    assertThat(TestSmtp.subject(mail))
        .matches("Airlock: your container chromium ends in \\d minutes");
    assertThat(TestSmtp.body(mail))
        .contains("Your browser-isolation container " + soon + " (image chromium)")
        .contains("Your containers: https://airlock.example.test");
    assertThat(warnedAt(soon)).isNotNull();
    assertThat(warnedAt(unreachable)).as("marked, though its owner has no address").isNotNull();
    assertThat(warnedAt(later)).as("its TTL ends after the warning time").isNull();

    runJob(ContainerExpiryWarning.JOB);
    assertThat(queuedFor(email))
        .as("one warning per container, however often the job runs")
        .isOne();
    assertThat(TestSmtp.to(email)).hasSize(1);
  }

  @Test
  void mailWaitsInTheOutboxWhileTheServerDoesNotAnswerAndGoesWhenItIsBack() throws Exception {
    String email = address("dave");
    String dave = user(email, List.of());
    String id;
    TestSmtp.signal("STOP");
    try {
      assertThat(
              outbox
                  .send(
                      new MailRecipient(dave, null, email),
                      "container-expiring",
                      Map.of(
                          "containerId", "c-" + suffix(),
                          "image", "chromium",
                          "expiresAt", "soon",
                          "timeLeft", "5 minutes"))
                  .block(Duration.ofSeconds(10)))
          .isTrue();
      Map<String, Object> row = awaitOutbox(email, r -> r.get("last_error") != null);
      id = (String) row.get("id");
      assertThat(row.get("sent_at")).isNull();
      assertThat((String) row.get("last_error")).isNotBlank();
      assertThat(TestSmtp.to(email)).as("nothing delivered while the server is paused").isEmpty();
      assertThat(awaitFailedMailRun().get("message").toString()).contains("1 failed");
    } finally {
      TestSmtp.signal("CONT");
    }

    TestSmtp.await(email, WITHIN, m -> TestSmtp.subject(m).contains("chromium"));
    Map<String, Object> sent = awaitOutbox(email, r -> r.get("sent_at") != null);
    assertThat(sent.get("id")).isEqualTo(id);
    assertThat(((Number) sent.get("attempts")).intValue()).isGreaterThanOrEqualTo(2);
    assertThat(sent.get("last_error")).isNull();
    assertThat(TestSmtp.to(email)).hasSize(1);
  }

  // --- helpers ---------------------------------------------------------------------------

  /** The newest run of the mail job that counted a failed attempt, as the API shows it. */
  @SuppressWarnings("unchecked")
  private Map<String, Object> awaitFailedMailRun() throws Exception {
    String token = adminToken();
    Instant deadline = Instant.now().plus(WITHIN);
    while (true) {
      Map<String, Object> page =
          getJson("/api/v1/jobs/" + MailDelivery.JOB + "/runs?limit=20", token);
      for (Map<String, Object> run : (List<Map<String, Object>>) page.get("items")) {
        Map<String, Object> counts = (Map<String, Object>) run.get("counts");
        if (((Number) counts.getOrDefault("failed", 0)).longValue() > 0) {
          return run;
        }
      }
      assertThat(Instant.now()).as("a mail run with a failed attempt").isBefore(deadline);
      Thread.sleep(200);
    }
  }

  private Map<String, Object> awaitOutbox(
      String email, java.util.function.Predicate<Map<String, Object>> matching)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(WITHIN);
    while (true) {
      Map<String, Object> row =
          db.sql(
                  "SELECT id, attempts, sent_at, last_error FROM mail_outbox WHERE recipient ="
                      + " :to")
              .bind("to", email)
              .fetch()
              .one()
              .block(Duration.ofSeconds(10));
      if (row != null && matching.test(row)) {
        return row;
      }
      assertThat(Instant.now()).as("outbox row for " + email + " as expected").isBefore(deadline);
      Thread.sleep(200);
    }
  }

  private static Path templates() {
    try {
      Path dir = Files.createTempDirectory("airlock-mail-templates");
      Files.writeString(
          dir.resolve("job-failed.txt.mustache"),
          "[site template] {{username}}: job {{job}} failed: {{message}} (run {{runId}})\n");
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
