package dev.airlock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.cli.CliRunner.Result;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What the CLI says and which status it exits with before (or without) reaching a platform. */
class ArgumentsTest {

  @TempDir Path config;

  private CliRunner cli() {
    return CliRunner.withConfigDir(config);
  }

  private static void assertUsageError(Result result, String message, String helpOf) {
    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.USAGE);
    assertThat(result.out()).as("%s", result).isEmpty();
    assertThat(result.err().lines()).as("%s", result).hasSize(1);
    assertThat(result.err())
        .as("%s", result)
        .startsWith("airlock: ")
        .contains(message)
        .endsWith(" (see '" + helpOf + " --help')\n")
        .doesNotContain("Exception", "\tat ");
  }

  @Test
  void withoutACommandTheUsageGoesToStandardErrorWithTheUsageStatus() {
    Result result = cli().run();

    assertThat(result.exit()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).contains("Usage: airlock", "containers", "login", "Exit status:");
  }

  @Test
  void helpListsTheCommandsAndEveryExitStatus() {
    Result result = cli().run("--help");

    assertThat(result.exit()).isZero();
    assertThat(result.out())
        .contains(
            "login",
            "logout",
            "containers",
            "images",
            "nodes",
            "ssh",
            "proxy",
            "jobs",
            "audit",
            "AIRLOCK_API_KEY",
            "AIRLOCK_URL")
        .contains(
            "0    success",
            "1    unexpected error",
            "2    usage error",
            "3    not logged in",
            "4    not found",
            "5    unreachable, temporarily unavailable or over quota",
            "6    the container failed",
            "7    timed out waiting",
            "8    the tunnel could not be opened or broke",
            "9    the job run failed or was interrupted",
            "10   the audit log's hash chain does not verify");
  }

  @Test
  void everyCommandsHelpHasTheExitStatusesToo() {
    for (String[] command :
        new String[][] {
          {"containers", "create", "--help"},
          {"containers", "ls", "--help"},
          {"containers", "get", "--help"},
          {"containers", "rm", "--help"},
          {"images", "ls", "--help"},
          {"login", "--help"},
          {"logout", "--help"},
          {"nodes", "ls", "--help"},
          {"ssh", "--help"},
          {"proxy", "ssh", "--help"},
          {"proxy", "app", "--help"},
          {"proxy", "tcp", "--help"},
          {"jobs", "ls", "--help"},
          {"jobs", "runs", "--help"},
          {"jobs", "run", "--help"},
          {"audit", "export", "--help"},
          {"audit", "verify", "--help"}
        }) {
      Result result = cli().run(command);
      assertThat(result.exit()).as("%s", (Object) command).isZero();
      assertThat(result.out())
          .as("%s", (Object) command)
          .contains("Exit status:", "7    timed out", "8    the tunnel", "10   the audit log");
    }
  }

  @Test
  void versionIsTheBuildsVersion() {
    Result result = cli().run("--version");

    assertThat(result.exit()).isZero();
    assertThat(result.out()).startsWith("airlock ").doesNotContain("null");
  }

  @Test
  void anUnknownCommandIsAUsageError() {
    assertUsageError(cli().run("containres", "ls"), "Unmatched argument", "airlock");
  }

  @Test
  void anUnknownOptionIsAUsageError() {
    assertUsageError(
        cli().run("containers", "ls", "--colour"),
        "Unknown option: '--colour'",
        "airlock containers ls");
  }

  @Test
  void createNeedsAnImage() {
    assertUsageError(
        cli().run("containers", "create", "--wait"),
        "Missing required option: '--image=NAME'",
        "airlock containers create");
  }

  @ParameterizedTest
  @ValueSource(strings = {"--ttl", "--timeout"})
  void aDurationThatIsNotOneIsAUsageErrorSayingWhatWasExpected(String option) {
    assertUsageError(
        cli().run("containers", "create", "--image", "chromium", "--wait", option, "5 minutes"),
        "'5 minutes' (expected: a duration such as 90s, 30m, 2h or 1h30m)",
        "airlock containers create");
  }

  @Test
  void aTimeoutWithoutWaitIsAUsageError() {
    Result result = cli().run("containers", "create", "--image", "chromium", "--timeout", "1m");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).isEqualTo("airlock: --timeout applies only with --wait\n");
  }

  @Test
  void aLabelWithoutAValueIsAUsageError() {
    assertUsageError(
        cli().run("containers", "create", "--image", "chromium", "--label", "job"),
        "--label",
        "airlock containers create");
  }

  @Test
  void anIdThatIsNotOneIsAUsageError() {
    assertUsageError(
        cli().run("containers", "get", "42"),
        "'42' (expected: a container id such as",
        "airlock containers get");
  }

  @Test
  void anUnknownOutputFormatIsAUsageError() {
    assertUsageError(
        cli().run("containers", "ls", "--output", "yaml"),
        "Invalid value for option '--output'",
        "airlock containers ls");
  }

  @Test
  void anUnknownStateIsAUsageError() {
    assertUsageError(
        cli().run("containers", "ls", "--state", "running"),
        "'running' (expected: requested, provisioning, starting, ready, stopping, deleted or"
            + " failed)",
        "airlock containers ls");
  }

  @Test
  void aCommandGroupWithoutItsCommandShowsItsUsage() {
    Result result = cli().run("containers");

    assertThat(result.exit()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).contains("Usage: airlock containers", "create", "ls", "rm");
  }

  @Test
  void withoutALoginOrAnApiKeyTheCommandSaysHowToLogIn() {
    Result result = cli().run("containers", "ls");

    assertThat(result.exit()).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(result.err())
        .isEqualTo(
            "airlock: not logged in: run 'airlock login', or set AIRLOCK_URL and"
                + " AIRLOCK_API_KEY\n");
  }

  @Test
  void anApiKeyWithoutAUrlIsAUsageErrorAndTheKeyIsNotShown() {
    Result result = cli().env("AIRLOCK_API_KEY", "alk_not_shown_anywhere").run("images", "ls");

    assertThat(result.exit()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).contains("AIRLOCK_API_KEY is set but AIRLOCK_URL is not");
    assertThat(result.all()).doesNotContain("not_shown_anywhere");
  }

  @Test
  void aUrlThatIsNotOneIsAUsageError() {
    Result result =
        cli()
            .env("AIRLOCK_API_KEY", "alk_x")
            .env("AIRLOCK_URL", "airlock.example.com")
            .run("images", "ls");

    assertThat(result.exit()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err())
        .isEqualTo(
            "airlock: AIRLOCK_URL: 'airlock.example.com' (expected: the platform's http or https"
                + " URL, e.g. https://airlock.example.com)\n");
  }

  @Test
  void anUnreachablePlatformMeansRetryLater() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    Result result =
        cli()
            .env("AIRLOCK_API_KEY", "alk_secret_for_unreachable")
            .env("AIRLOCK_URL", "http://127.0.0.1:" + closed)
            .run("containers", "ls");

    assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.RETRY_LATER);
    assertThat(result.err())
        .startsWith("airlock: cannot reach the platform at http://127.0.0.1:" + closed + ": ")
        .contains("onnection refused")
        .doesNotContain("\tat ", "secret_for_unreachable");
    assertThat(result.err().lines()).hasSize(1);
  }

  @Test
  void withDebugAFailureAlsoPrintsItsStackTraceButNeverTheKey() throws IOException {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    Result result =
        cli()
            .env("AIRLOCK_API_KEY", "alk_secret_for_debug")
            .env("AIRLOCK_URL", "http://127.0.0.1:" + closed)
            .run("containers", "ls", "--debug");

    assertThat(result.exit()).isEqualTo(ExitStatus.RETRY_LATER);
    assertThat(result.err()).contains("\tat ").doesNotContain("secret_for_debug");
  }

  @Test
  void loginWithoutATerminalNeedsPasswordStdin() {
    Result result = cli().run("login", "--url", "http://127.0.0.1:9", "--username", "alice");

    assertThat(result.exit()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err())
        .isEqualTo(
            "airlock: no terminal to ask for the password at: use --password-stdin (e.g. from a"
                + " secret file)\n");
  }

  @Test
  void loginWithAnEmptyStandardInputIsAUsageError() {
    Result result =
        cli()
            .runWithInput(
                "", "login", "--url", "http://127.0.0.1:9", "-u", "alice", "--password-stdin");

    assertThat(result.exit()).isEqualTo(ExitStatus.USAGE);
    assertThat(result.err()).contains("--password-stdin: standard input is empty");
  }

  @Test
  void logoutWithoutALoginSaysSo() {
    Result result = cli().run("logout");

    assertThat(result.exit()).isZero();
    assertThat(result.out()).isEqualTo("Not logged in.\n");
  }
}
