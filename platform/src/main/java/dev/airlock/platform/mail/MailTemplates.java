package dev.airlock.platform.mail;

import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import dev.airlock.platform.AirlockProperties;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The mail templates (Mustache, plain text): a subject and a body per notification, built in under
 * {@code mail/} on the classpath, each replaceable by a file of the same name in {@code
 * airlock.mail.templates-dir}. All are compiled and tried with every variable at start-up, so a
 * broken override stops the platform with a message naming the file rather than a mail later.
 *
 * <p>Values are inserted as they are (no HTML escaping: the mails are plain text), without control
 * characters other than line breaks; a subject is one line.
 */
@Component
public class MailTemplates {

  /** Each template's variables; every template also has {@link #COMMON}. */
  public static final Map<String, List<String>> VARIABLES =
      Map.of(
          "new-device-login", List.of("time", "address", "network", "userAgent"),
          "container-expiring", List.of("containerId", "image", "expiresAt", "timeLeft"),
          "job-failed", List.of("job", "runId", "message", "time"));

  /** Variables of every template: the recipient's names and {@code airlock.mail.base-url}. */
  public static final List<String> COMMON = List.of("username", "displayName", "baseUrl");

  /** How mails show times: {@code 2030-01-02 03:04:05 UTC}. */
  public static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

  private static final int MAX_SUBJECT = 250;

  private final Map<String, Template> subjects = new HashMap<>();
  private final Map<String, Template> bodies = new HashMap<>();

  @Autowired
  public MailTemplates(AirlockProperties properties) {
    this(properties.mail().templatesDir());
  }

  MailTemplates(String templatesDir) {
    Mustache.Compiler compiler =
        Mustache.compiler().escapeHTML(false).strictSections(true).emptyStringIsFalse(true);
    Map<String, Path> overrides = overrides(templatesDir);
    for (String name : VARIABLES.keySet()) {
      subjects.put(name, compile(compiler, name + ".subject.mustache", overrides));
      bodies.put(name, compile(compiler, name + ".txt.mustache", overrides));
    }
    if (!overrides.isEmpty()) {
      throw new IllegalArgumentException(
          "airlock.mail.templates-dir: "
              + String.join(", ", new TreeSet<>(overrides.keySet()))
              + " (expected only: "
              + String.join(", ", expectedFiles())
              + ")");
    }
  }

  /** A rendered mail: one subject line and a plain-text body. */
  public record Rendered(String subject, String body) {}

  /**
   * Renders template {@code name} with {@code variables}, which must hold exactly the template's
   * variables ({@link #VARIABLES} and {@link #COMMON}).
   */
  public Rendered render(String name, Map<String, String> variables) {
    Template subject = subjects.get(name);
    if (subject == null) {
      throw new IllegalArgumentException("no mail template " + name);
    }
    Set<String> expected = new TreeSet<>(VARIABLES.get(name));
    expected.addAll(COMMON);
    if (!expected.equals(new TreeSet<>(variables.keySet()))) {
      throw new IllegalArgumentException(
          "mail template "
              + name
              + ": variables "
              + variables.keySet()
              + " (expected: "
              + expected
              + ")");
    }
    Map<String, String> clean = new LinkedHashMap<>();
    variables.forEach((key, value) -> clean.put(key, clean(value)));
    String line = subject.execute(clean).replaceAll("\\s+", " ").strip();
    if (line.length() > MAX_SUBJECT) {
      line = line.substring(0, MAX_SUBJECT - 1) + "…";
    }
    return new Rendered(line, bodies.get(name).execute(clean));
  }

  /** Drops control characters (escape sequences, carriage returns) but keeps line breaks. */
  private static String clean(String value) {
    return value == null ? "" : value.replaceAll("[\\p{Cntrl}&&[^\\n]]", "");
  }

  private static Template compile(
      Mustache.Compiler compiler, String file, Map<String, Path> overrides) {
    Path override = overrides.remove(file);
    String where = override == null ? "built-in mail/" + file : override.toString();
    String source;
    try {
      source = override == null ? builtIn(file) : Files.readString(override);
    } catch (IOException e) {
      throw new UncheckedIOException("airlock.mail.templates-dir: cannot read " + where, e);
    }
    String name = file.substring(0, file.indexOf('.'));
    Map<String, String> sample = new HashMap<>();
    VARIABLES.get(name).forEach(v -> sample.put(v, v));
    COMMON.forEach(v -> sample.put(v, v));
    try {
      Template template = compiler.compile(source);
      template.execute(sample);
      return template;
    } catch (MustacheException e) {
      List<String> known = new ArrayList<>(VARIABLES.get(name));
      known.addAll(COMMON);
      throw new IllegalArgumentException(
          "airlock.mail.templates-dir: "
              + where
              + ": "
              + e.getMessage()
              + " (variables: "
              + String.join(", ", known)
              + ")",
          e);
    }
  }

  private static String builtIn(String file) throws IOException {
    try (InputStream in = MailTemplates.class.getResourceAsStream("/mail/" + file)) {
      if (in == null) {
        throw new IOException("missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The {@code *.mustache} files of the operators' directory, by file name. */
  private static Map<String, Path> overrides(String templatesDir) {
    Map<String, Path> found = new HashMap<>();
    if (templatesDir == null || templatesDir.isBlank()) {
      return found;
    }
    Path dir = Path.of(templatesDir);
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(
          "airlock.mail.templates-dir: "
              + templatesDir
              + " is not a directory (expected: a directory of *.mustache files, or empty)");
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.mustache")) {
      files.forEach(file -> found.put(file.getFileName().toString(), file));
    } catch (IOException e) {
      throw new UncheckedIOException("airlock.mail.templates-dir: cannot list " + templatesDir, e);
    }
    return found;
  }

  private static List<String> expectedFiles() {
    List<String> files = new ArrayList<>();
    new TreeSet<>(VARIABLES.keySet())
        .forEach(
            name -> {
              files.add(name + ".subject.mustache");
              files.add(name + ".txt.mustache");
            });
    return files;
  }
}
