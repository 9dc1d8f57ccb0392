package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.platform.AirlockProperties;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/**
 * {@code airlock.mail.*}: defaults, and start-up errors that name the setting and what it takes.
 */
class MailSettingsTest {

  @Test
  void mailIsOffByDefault() {
    AirlockProperties.Mail mail = bind(Map.of()).mail();

    assertThat(mail.enabled()).isFalse();
    assertThat(mail.port()).isEqualTo(587);
    assertThat(mail.security()).isEqualTo("starttls");
    assertThat(mail.expiryWarning()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void wrongSettingsAreNamedWithWhatTheyTake() {
    assertRefused(Map.of("airlock.mail.enabled", "true"), "airlock.mail.host: empty");
    assertRefused(
        Map.of("airlock.mail.enabled", "true", "airlock.mail.host", "smtp.example.test"),
        "airlock.mail.from: empty");
    assertRefused(
        Map.of("airlock.mail.from", "airlock at example"),
        "airlock.mail.from: 'airlock at example' (expected: an e-mail address");
    assertRefused(
        Map.of("airlock.mail.security", "ssl"),
        "airlock.mail.security: 'ssl' (expected: starttls, tls or none)");
    assertRefused(Map.of("airlock.mail.port", "0"), "airlock.mail.port: 0 (expected: 1..65535)");
    assertRefused(
        Map.of("airlock.mail.password", "secret"),
        "airlock.mail.password: set without airlock.mail.username");
    assertRefused(
        Map.of("airlock.mail.base-url", "airlock.example.test"),
        "airlock.mail.base-url: 'airlock.example.test' (expected: empty, or an http(s) URL");
    assertRefused(
        Map.of("airlock.mail.expiry-warning", "30s"),
        "airlock.mail.expiry-warning: PT30S (expected: 1m..24h)");
    assertRefused(
        Map.of("airlock.mail.retry-backoff", "0s"),
        "airlock.mail.retry-backoff: PT0S (expected: 1s..1h)");
  }

  @Test
  void thePasswordIsNeverPrinted() {
    AirlockProperties properties =
        bind(Map.of("airlock.mail.username", "mailer", "airlock.mail.password", "hunter2-xyz"));

    assertThat(properties.toString()).doesNotContain("hunter2-xyz").contains("username=mailer");
  }

  private static void assertRefused(Map<String, String> settings, String message) {
    assertThatThrownBy(() -> bind(settings)).rootCause().hasMessageContaining(message);
  }

  private static AirlockProperties bind(Map<String, String> settings) {
    return new Binder(new MapConfigurationPropertySource(new HashMap<>(settings)))
        .bindOrCreate("airlock", AirlockProperties.class);
  }
}
