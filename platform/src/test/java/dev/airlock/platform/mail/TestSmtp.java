package dev.airlock.platform.mail;

import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * The real SMTP servers of {@code deploy/test-deps.sh} ({@code test_deps_smtp}: Debian's aiosmtpd)
 * and the Maildir they file every mail in, read back with Jakarta Mail.
 */
final class TestSmtp {

  private TestSmtp() {}

  static String host() {
    return required("AIRLOCK_TEST_SMTP_HOST");
  }

  /** The plain SMTP server's port. */
  static int port() {
    return Integer.parseInt(required("AIRLOCK_TEST_SMTP_PORT"));
  }

  /** The port of the server that requires STARTTLS. */
  static int startTlsPort() {
    return Integer.parseInt(required("AIRLOCK_TEST_SMTP_STARTTLS_PORT"));
  }

  /** The port of the server that speaks TLS from the first byte (SMTPS). */
  static int tlsPort() {
    return Integer.parseInt(required("AIRLOCK_TEST_SMTP_TLS_PORT"));
  }

  /** The certificate of the STARTTLS and SMTPS servers (self-signed: its own CA), PEM. */
  static String caFile() {
    return required("AIRLOCK_TEST_SMTP_CA_FILE");
  }

  /** The plain server's process, which a test may pause. */
  static long pid() {
    return Long.parseLong(required("AIRLOCK_TEST_SMTP_PID"));
  }

  static Path mailbox() {
    return Path.of(required("AIRLOCK_TEST_SMTP_MAILBOX"));
  }

  /** Every mail delivered to {@code address} so far. */
  static List<MimeMessage> to(String address) throws IOException {
    Session session = Session.getInstance(new Properties());
    List<MimeMessage> found = new ArrayList<>();
    for (String folder : List.of("new", "cur")) {
      Path dir = mailbox().resolve(folder);
      if (!Files.isDirectory(dir)) {
        continue;
      }
      try (Stream<Path> files = Files.list(dir)) {
        for (Path file : files.sorted().toList()) {
          try (InputStream in = Files.newInputStream(file)) {
            MimeMessage message = new MimeMessage(session, in);
            if (addressedTo(message, address)) {
              found.add(message);
            }
          } catch (MessagingException e) {
            throw new IOException("cannot parse " + file, e);
          }
        }
      }
    }
    found.sort(
        (a, b) -> {
          try {
            return a.getSentDate().compareTo(b.getSentDate());
          } catch (MessagingException e) {
            throw new IllegalStateException(e);
          }
        });
    return found;
  }

  /** Waits (up to {@code within}) for a mail to {@code address} that matches. */
  static MimeMessage await(String address, Duration within, Predicate<MimeMessage> matching)
      throws Exception {
    Instant deadline = Instant.now().plus(within);
    while (true) {
      for (MimeMessage message : to(address)) {
        if (matching.test(message)) {
          return message;
        }
      }
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError(
            "no matching mail to " + address + " within " + within + " in " + mailbox());
      }
      Thread.sleep(200);
    }
  }

  /** The text of a plain-text mail. */
  static String body(MimeMessage message) {
    try {
      return ((String) message.getContent()).replace("\r\n", "\n");
    } catch (IOException | MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  static String subject(MimeMessage message) {
    try {
      return message.getSubject();
    } catch (MessagingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Pauses (SIGSTOP) or resumes (SIGCONT) the plain server: paused, it accepts but never answers.
   */
  static void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
    }
  }

  private static boolean addressedTo(MimeMessage message, String address)
      throws MessagingException {
    Address[] to = message.getRecipients(Message.RecipientType.TO);
    return to != null && Arrays.stream(to).anyMatch(a -> a.toString().equalsIgnoreCase(address));
  }

  private static String required(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          name
              + " is not set: the mail tests need the SMTP servers of deploy/test-deps.sh"
              + " (./airlock test starts them; by hand: eval \"$(deploy/test-deps.sh up)\")");
    }
    return value;
  }
}
