package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.platform.AirlockProperties;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.mail.MailAuthenticationException;

/**
 * Each {@code airlock.mail.security} against a real server (Debian's aiosmtpd): STARTTLS and SMTPS
 * deliver with the server's CA trusted, STARTTLS never falls back to plain text, an untrusted
 * certificate is refused; a failure's description never holds the password.
 */
class SmtpTransportTest {

  @Test
  void starttlsDeliversThroughTheServerThatRequiresIt() throws Exception {
    String to = address("starttls");
    transport("starttls", TestSmtp.startTlsPort(), TestSmtp.caFile()).send(mail(to)).block();

    // The server refuses mail before STARTTLS (530), so its arrival proves the upgrade.
    assertThat(TestSmtp.subject(TestSmtp.await(to, Duration.ofSeconds(10), m -> true)))
        .isEqualTo("a test mail");
  }

  @Test
  void tlsDeliversThroughAnSmtpsServer() throws Exception {
    String to = address("smtps");
    transport("tls", TestSmtp.tlsPort(), TestSmtp.caFile()).send(mail(to)).block();

    assertThat(TestSmtp.body(TestSmtp.await(to, Duration.ofSeconds(10), m -> true)))
        .contains("sent over TLS or not at all");
  }

  @Test
  void starttlsRefusesAServerThatDoesNotOfferIt() throws Exception {
    String to = address("downgrade");
    SmtpTransport plain = transport("starttls", TestSmtp.port(), TestSmtp.caFile());

    assertThatThrownBy(() -> plain.send(mail(to)).block())
        .satisfies(
            e -> {
              assertThat(plain.describe(e)).containsIgnoringCase("STARTTLS");
              assertThat(SmtpTransport.concernsOnlyThisMail(e)).isFalse();
            });
    assertThat(TestSmtp.to(to)).as("nothing went in plain text").isEmpty();
  }

  @Test
  void aCertificateFromAnUntrustedCaIsRefused() throws Exception {
    String to = address("untrusted");
    SmtpTransport jvmTrust = transport("starttls", TestSmtp.startTlsPort(), "");

    assertThatThrownBy(() -> jvmTrust.send(mail(to)).block())
        .satisfies(
            e -> {
              assertThat(jvmTrust.describe(e)).contains("certification path");
              assertThat(SmtpTransport.concernsOnlyThisMail(e)).isFalse();
            });
    assertThat(TestSmtp.to(to)).isEmpty();
  }

  @Test
  void aBadRecipientFailsOnlyItsOwnMail() {
    SmtpTransport plain = transport("none", TestSmtp.port(), "");

    assertThatThrownBy(() -> plain.send(mail("not an address@@example.test")).block())
        .satisfies(e -> assertThat(SmtpTransport.concernsOnlyThisMail(e)).isTrue());
  }

  @Test
  void aFailureIsDescribedWithoutThePassword() {
    AirlockProperties.Mail settings =
        settings("starttls", TestSmtp.port(), "", "mailer", "s3cret-Pa55word");
    SmtpTransport transport = new SmtpTransport(settings);

    String described =
        transport.describe(
            new MailAuthenticationException(
                "535 5.7.8 authentication failed for mailer/s3cret-Pa55word"));

    assertThat(described)
        .startsWith("MailAuthenticationException: 535 5.7.8")
        .doesNotContain("s3cret-Pa55word");
    assertThat(settings.toString()).doesNotContain("s3cret-Pa55word").contains("password=(set)");
  }

  private static SmtpTransport transport(String security, int port, String caFile) {
    return new SmtpTransport(settings(security, port, caFile, "", ""));
  }

  private static AirlockProperties.Mail settings(
      String security, int port, String caFile, String username, String password) {
    return new AirlockProperties.Mail(
        true,
        TestSmtp.host(),
        port,
        security,
        username,
        password,
        "Airlock <airlock@example.test>",
        "",
        "",
        Duration.ofMinutes(10),
        Duration.ofSeconds(5),
        caFile,
        10,
        Duration.ofSeconds(30));
  }

  private static OutboxMail mail(String to) {
    return new OutboxMail(
        UUID.randomUUID().toString(),
        to,
        "test",
        "a test mail",
        "sent over TLS or not at all\n",
        0);
  }

  private static String address(String who) {
    return who + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.test";
  }
}
