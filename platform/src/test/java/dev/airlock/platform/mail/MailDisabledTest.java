package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Mail off (the default): what would be notified is not queued, and both mail jobs report that mail
 * is off without doing anything. This platform is the one most test classes share.
 */
class MailDisabledTest extends MailTestSupport {

  @Test
  void nothingIsQueuedAndTheJobsSayMailIsOff() throws Exception {
    String email = address("erin");
    String erin = user(email, List.of());
    String adminEmail = address("ops");
    user(adminEmail, List.of("admin"));

    loginFrom(erin, "Firefox");
    loginFrom(erin, "a second browser");
    assertThat(devices(erin)).as("the devices are recorded all the same").isEqualTo(2);
    assertThat(queuedFor(email)).as("no new-device mail").isZero();

    runFailing(failing("nightly-" + suffix(), "directory unreachable"));
    // The notification would be queued in the background: leave it time to show up.
    Thread.sleep(2000);
    assertThat(queuedFor(adminEmail)).as("no failed-job mail").isZero();

    String expiring = container(erin, Instant.now().plus(Duration.ofMinutes(5)));
    assertThat(runJob(ContainerExpiryWarning.JOB))
        .isEqualTo("mail is off (airlock.mail.enabled is false): nothing warned");
    assertThat(warnedAt(expiring)).isNull();
    assertThat(queuedFor(email)).isZero();

    assertThat(runJob(MailDelivery.JOB))
        .isEqualTo("mail is off (airlock.mail.enabled is false): nothing sent");
    String token = adminToken();
    http.get()
        .uri("/api/v1/jobs")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.items[?(@.name == 'mail')].enabled")
        .isEqualTo(false)
        .jsonPath("$.items[?(@.name == 'container-expiry-warning')].enabled")
        .isEqualTo(false);
  }

  private long devices(String username) {
    return db.sql(
            "SELECT COUNT(*) FROM login_devices d JOIN users u ON u.id = d.user_id"
                + " WHERE u.username = :u")
        .bind("u", username)
        .map(row -> row.get(0, Long.class))
        .one()
        .block(Duration.ofSeconds(10));
  }
}
