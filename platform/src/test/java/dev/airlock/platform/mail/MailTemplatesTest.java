package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The built-in templates and operators' overrides: plain text inserted as it is (no HTML escaping),
 * control characters dropped, one-line subjects; an override replaces its own file only; a broken
 * or misnamed override stops the start with a message naming the file.
 */
class MailTemplatesTest {

  @TempDir Path dir;

  @Test
  void valuesAreInsertedAsPlainTextWithoutControlCharacters() {
    MailTemplates templates = new MailTemplates("");

    MailTemplates.Rendered mail =
        templates.render(
            "new-device-login",
            Map.of(
                "username", "alice\r\nBcc: everyone@example.test",
                "displayName", "Alice <Ops & Co>",
                "baseUrl", "https://airlock.example.test/?a=1&b=2",
                "time", "2030-01-02 03:04:05 UTC",
                "address", "192.0.2.7",
                "network", "192.0.2.0/24",
                "userAgent", "Mozilla/5.0 <b>\"quoted\" & 'single'</b>\u001b[31m red"));

    assertThat(mail.subject())
        .isEqualTo("Airlock: new sign-in to your account alice Bcc: everyone@example.test")
        .doesNotContain("\n");
    assertThat(mail.body())
        .startsWith("Hello Alice <Ops & Co>,")
        .contains("Browser:  Mozilla/5.0 <b>\"quoted\" & 'single'</b>[31m red")
        .contains("at https://airlock.example.test/?a=1&b=2")
        .doesNotContain("&amp;", "&lt;", "\u001b", "\r");
  }

  @Test
  void anEmptyBaseUrlLeavesOutTheLinks() {
    MailTemplates.Rendered mail =
        new MailTemplates("")
            .render(
                "container-expiring",
                Map.of(
                    "username", "bob",
                    "displayName", "bob",
                    "baseUrl", "",
                    "containerId", "c-1",
                    "image", "chromium",
                    "expiresAt", "2030-01-02 03:04:05 UTC",
                    "timeLeft", "5 minutes"));

    assertThat(mail.subject()).isEqualTo("Airlock: your container chromium ends in 5 minutes");
    assertThat(mail.body()).contains("c-1").doesNotContain("Your containers:");
  }

  @Test
  void anOverrideReplacesItsOwnFileOnly() throws Exception {
    Files.writeString(dir.resolve("job-failed.subject.mustache"), "[ops] {{job}} broke\n");

    MailTemplates.Rendered mail =
        new MailTemplates(dir.toString())
            .render(
                "job-failed",
                Map.of(
                    "username", "root",
                    "displayName", "Root",
                    "baseUrl", "",
                    "job", "audit-archive",
                    "runId", "r-1",
                    "message", "disk full",
                    "time", "now"));

    assertThat(mail.subject()).isEqualTo("[ops] audit-archive broke");
    assertThat(mail.body()).contains("A run of the scheduled job \"audit-archive\" failed");
  }

  @Test
  void anOverrideUsingAnUnknownVariableStopsTheStart() throws Exception {
    Path file = dir.resolve("new-device-login.txt.mustache");
    Files.writeString(file, "Hello {{fullName}}\n");

    assertThatThrownBy(() -> new MailTemplates(dir.toString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("airlock.mail.templates-dir: " + file)
        .hasMessageContaining("fullName")
        .hasMessageContaining("variables: time, address, network, userAgent, username");
  }

  @Test
  void aFileNamedForNoTemplateStopsTheStart() throws Exception {
    Files.writeString(dir.resolve("job-faild.txt.mustache"), "typo\n");

    assertThatThrownBy(() -> new MailTemplates(dir.toString()))
        .hasMessageContaining("airlock.mail.templates-dir: job-faild.txt.mustache (expected only:")
        .hasMessageContaining("job-failed.txt.mustache");
  }

  @Test
  void aTemplatesDirThatIsNoDirectoryStopsTheStart() {
    assertThatThrownBy(() -> new MailTemplates(dir.resolve("missing").toString()))
        .hasMessageContaining("is not a directory");
  }
}
