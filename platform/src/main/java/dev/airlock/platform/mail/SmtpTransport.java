package dev.airlock.platform.mail;

import dev.airlock.platform.AirlockProperties;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.Properties;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.mail.MailException;
import org.springframework.mail.MailPreparationException;
import org.springframework.mail.MailSendException;
import org.springframework.mail.javamail.JavaMailSenderImpl;
import org.springframework.mail.javamail.MimeMessageHelper;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Hands one mail to the SMTP server of {@code airlock.mail.*} with Spring's {@link
 * JavaMailSenderImpl} (Jakarta Mail), off the event loops. {@code starttls} refuses a server that
 * does not offer STARTTLS (no silent fall-back to plain text) and, like {@code tls}, checks the
 * server's certificate and host name.
 */
@Component
public class SmtpTransport {

  private static final Logger log = LoggerFactory.getLogger(SmtpTransport.class);

  private final AirlockProperties.Mail settings;
  private final JavaMailSenderImpl sender;

  @Autowired
  public SmtpTransport(AirlockProperties properties) {
    this(properties.mail());
  }

  SmtpTransport(AirlockProperties.Mail settings) {
    this.settings = settings;
    this.sender = settings.enabled() ? sender(settings) : null;
    if (sender != null && "none".equals(settings.security()) && !settings.username().isBlank()) {
      log.warn(
          "airlock.mail.security is none: the SMTP password for {} crosses the network"
              + " unencrypted",
          settings.username());
    }
  }

  /**
   * Sends {@code mail} (on a worker thread); fails with a {@link MailException} when the server
   * refuses it or cannot be reached.
   */
  public Mono<Void> send(OutboxMail mail) {
    if (sender == null) {
      return Mono.error(new IllegalStateException("mail is off (airlock.mail.enabled is false)"));
    }
    return Mono.<Void>fromRunnable(() -> sender.send(message(mail)))
        .subscribeOn(Schedulers.boundedElastic());
  }

  private MimeMessage message(OutboxMail mail) {
    MimeMessage message = sender.createMimeMessage();
    try {
      MimeMessageHelper helper = new MimeMessageHelper(message, false, "UTF-8");
      helper.setFrom(new InternetAddress(settings.from(), true));
      helper.setTo(new InternetAddress(mail.recipient(), true));
      helper.setSubject(mail.subject());
      helper.setText(mail.body(), false);
      helper.setSentDate(new Date());
      // RFC 3834: no vacation auto-replies to a notification. A Message-ID of the outbox row makes
      // a mail sent again (the platform died before recording it as sent) a recognisable duplicate.
      message.setHeader("Auto-Submitted", "auto-generated");
      message.setHeader("Message-ID", "<" + mail.id() + "." + domain() + ">");
    } catch (MessagingException e) {
      throw new MailPreparationException(e);
    }
    return message;
  }

  private String domain() {
    try {
      String address = new InternetAddress(settings.from(), true).getAddress();
      return "airlock@" + address.substring(address.indexOf('@') + 1);
    } catch (AddressException e) {
      return "airlock@localhost";
    }
  }

  /**
   * True when the failure is the mail's own (the server refused its recipient, or it could not be
   * built): other mails may still go. False when the server is unreachable, refused the login, or
   * broke off: the rest of the outbox waits for the next round.
   */
  static boolean concernsOnlyThisMail(Throwable failure) {
    for (Throwable e : causes(failure)) {
      if (e instanceof SendFailedException
          || e instanceof AddressException
          || e instanceof MailPreparationException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Why a send failed, for {@code mail_outbox.last_error} and the job's run: the chain of causes,
   * without the SMTP password, at most 500 characters.
   */
  String describe(Throwable failure) {
    StringBuilder text = new StringBuilder();
    Set<String> seen = new LinkedHashSet<>();
    for (Throwable e : causes(failure)) {
      String message = e.getMessage();
      if (e instanceof MailSendException
          && !((MailSendException) e).getFailedMessages().isEmpty()) {
        continue; // its message lists the failed MimeMessage objects; their causes follow
      }
      String part =
          e.getClass().getSimpleName()
              + (message == null || message.isBlank() ? "" : ": " + message.strip());
      if (seen.add(part)) {
        text.append(text.isEmpty() ? "" : "; caused by ").append(part);
      }
    }
    String result = text.toString().replaceAll("\\s+", " ");
    if (!settings.password().isEmpty()) {
      result = result.replace(settings.password(), "***");
    }
    return result.length() <= 500 ? result : result.substring(0, 499) + "…";
  }

  /** The failure, its causes, Jakarta Mail's next exceptions and Spring's failed messages. */
  private static Set<Throwable> causes(Throwable failure) {
    Set<Throwable> all = new LinkedHashSet<>();
    collect(failure, all);
    return all;
  }

  private static void collect(Throwable e, Set<Throwable> all) {
    while (e != null && all.add(e)) {
      if (e instanceof MailSendException send) {
        send.getFailedMessages().values().forEach(inner -> collect(inner, all));
      }
      if (e instanceof MessagingException messaging && messaging.getNextException() != null) {
        collect(messaging.getNextException(), all);
      }
      e = e.getCause();
    }
  }

  private static JavaMailSenderImpl sender(AirlockProperties.Mail settings) {
    JavaMailSenderImpl sender = new JavaMailSenderImpl();
    sender.setHost(settings.host());
    sender.setPort(settings.port());
    sender.setProtocol("smtp");
    sender.setDefaultEncoding("UTF-8");
    Properties props = new Properties();
    String millis = Long.toString(settings.timeout().toMillis());
    props.put("mail.smtp.connectiontimeout", millis);
    props.put("mail.smtp.timeout", millis);
    props.put("mail.smtp.writetimeout", millis);
    if (!settings.username().isBlank()) {
      props.put("mail.smtp.auth", "true");
      sender.setUsername(settings.username());
      sender.setPassword(settings.password());
    }
    switch (settings.security()) {
      case "starttls" -> {
        props.put("mail.smtp.starttls.enable", "true");
        props.put("mail.smtp.starttls.required", "true");
      }
      case "tls" -> props.put("mail.smtp.ssl.enable", "true");
      default -> props.put("mail.smtp.starttls.enable", "false");
    }
    if (!"none".equals(settings.security())) {
      props.put("mail.smtp.ssl.checkserveridentity", "true");
      if (!settings.caFile().isBlank()) {
        props.put("mail.smtp.ssl.socketFactory", trusting(Path.of(settings.caFile())));
      }
    }
    sender.setJavaMailProperties(props);
    return sender;
  }

  /** TLS sockets that trust only the CA certificates of {@code caFile} (PEM). */
  private static SSLSocketFactory trusting(Path caFile) {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
      trusted.load(null, null);
      int n = 0;
      for (Certificate certificate :
          CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        trusted.setCertificateEntry("ca-" + n++, certificate);
      }
      if (n == 0) {
        throw new IllegalArgumentException(
            "airlock.mail.ca-file: " + caFile + " holds no certificate (expected: PEM)");
      }
      TrustManagerFactory trust =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(trusted);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context.getSocketFactory();
    } catch (IOException e) {
      throw new UncheckedIOException("airlock.mail.ca-file: cannot read " + caFile, e);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "airlock.mail.ca-file: " + caFile + ": " + e.getMessage() + " (expected: PEM)", e);
    }
  }
}
