package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.PasswordChange;
import dev.airlock.sdk.model.TokenPair;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code airlock login}: a password login whose tokens the next commands use. */
@Command(
    name = "login",
    sortOptions = false,
    header = "Log in to an Airlock platform; the next commands use this login.",
    description = {
      "Asks for your password (without echoing it), logs in, and keeps the platform's URL and"
          + " the login's tokens in credentials.json in ~/.config/airlock (or $AIRLOCK_CONFIG_DIR),"
          + " readable by you only. The tokens are refreshed as needed; the login lasts until"
          + " 'airlock logout' or until its refresh token expires.",
      "",
      "When the platform requires a new password (the admin's one-time password on a first"
          + " start), you are asked for one.",
      "",
      "CI scripts need no login: they set AIRLOCK_URL and AIRLOCK_API_KEY, which take precedence"
          + " over a stored login.",
    })
final class LoginCommand implements Callable<Integer> {

  static final String DEFAULT_URL = "http://localhost:8080";

  @Option(
      names = {"--url", "--proxy"},
      paramLabel = "URL",
      description =
          "The platform, e.g. https://airlock.example.com (--proxy is another name for it, as"
              + " in other remote-access tools). Default: $AIRLOCK_URL, else the last login's, else "
              + DEFAULT_URL
              + ".")
  String url;

  @Option(
      names = {"-u", "--username"},
      paramLabel = "USER",
      description = "Your username. Default: the last login's; asked for at a terminal.")
  String username;

  @Option(
      names = "--password-stdin",
      description =
          "Read the password from the first line of standard input instead of asking for it"
              + " (for scripts). When the platform requires a new password, it is read from the"
              + " second line.")
  boolean passwordStdin;

  private final CliContext context;
  private BufferedReader stdin;

  LoginCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    CredentialStore store = CredentialStore.of(context);
    Optional<StoredLogin> previous = previousLogin(store);
    String target = chooseUrl(previous);
    String user = chooseUsername(previous, target);
    String password = secret("Password for " + user + " at " + target + ": ", "the password");

    AirlockClient airlock = PlatformAccess.anonymous(target, url != null ? "--url" : "the URL");
    TokenPair pair = airlock.login(user, password).block(PlatformAccess.CALL_TIMEOUT);
    if (Boolean.TRUE.equals(pair.getPasswordChangeRequired())) {
      pair = changePassword(airlock, user, password);
    }
    store.save(StoredLogin.of(target, user, pair, Clock.systemUTC().instant()));
    context.out().println("Logged in to " + target + " as " + user + ".");
    if (context.env(PlatformAccess.API_KEY_ENV) != null) {
      context
          .err()
          .println(
              "note: "
                  + PlatformAccess.API_KEY_ENV
                  + " is set: commands use that API key, not this login, until it is unset.");
    }
    return ExitStatus.OK;
  }

  /** The stored login, ignored (to be replaced) when it cannot be read. */
  private Optional<StoredLogin> previousLogin(CredentialStore store) {
    try {
      return store.load();
    } catch (CliException unreadable) {
      return Optional.empty();
    }
  }

  private String chooseUrl(Optional<StoredLogin> previous) {
    String chosen = url;
    if (chosen == null) {
      chosen = context.env(PlatformAccess.URL_ENV);
    }
    if (chosen == null) {
      chosen = previous.map(StoredLogin::url).orElse(DEFAULT_URL);
    }
    return PlatformAccess.strip(chosen);
  }

  private String chooseUsername(Optional<StoredLogin> previous, String target) {
    if (username != null && !username.isBlank()) {
      return username.strip();
    }
    Optional<String> last =
        previous
            .filter(login -> PlatformAccess.sameUrl(login.url(), target))
            .map(StoredLogin::username);
    if (last.isPresent()) {
      return last.get();
    }
    if (context.interactive()) {
      String typed = context.terminal().readLine("Username: ");
      if (typed != null && !typed.isBlank()) {
        return typed.strip();
      }
    }
    throw CliException.usage("no username: give --username USER");
  }

  /**
   * After a login that requires a new password: asks for it, changes it, ends that restricted
   * session and logs in with the new password.
   */
  private TokenPair changePassword(AirlockClient airlock, String user, String current) {
    String fresh;
    try {
      fresh = newPassword(user);
    } catch (CliException noNewPassword) {
      airlock.logout().onErrorComplete().block(PlatformAccess.CALL_TIMEOUT);
      throw noNewPassword;
    }
    airlock
        .auth()
        .changePassword(new PasswordChange().currentPassword(current).newPassword(fresh))
        .block(PlatformAccess.CALL_TIMEOUT);
    airlock.logout().onErrorComplete().block(PlatformAccess.CALL_TIMEOUT);
    context.err().println("Password changed.");
    return airlock.login(user, fresh).block(PlatformAccess.CALL_TIMEOUT);
  }

  private String newPassword(String user) {
    String required = "the platform requires a new password for " + user;
    if (passwordStdin) {
      String line = readStdinLine();
      if (line == null || line.isEmpty()) {
        throw new CliException(
            ExitStatus.CREDENTIALS,
            required + ": give it on the second line of standard input, or log in at a terminal");
      }
      return line;
    }
    if (!context.interactive()) {
      throw new CliException(
          ExitStatus.CREDENTIALS, required + ": log in at a terminal, or use --password-stdin");
    }
    context.err().println(required + " (at least 12 characters).");
    String first = prompt("New password: ");
    String again = prompt("New password again: ");
    if (!first.equals(again)) {
      throw CliException.usage("the new passwords do not match");
    }
    return first;
  }

  /** Reads a secret from standard input or the terminal, as the options say. */
  private String secret(String promptText, String what) {
    if (passwordStdin) {
      String line = readStdinLine();
      if (line == null || line.isEmpty()) {
        throw CliException.usage(
            "--password-stdin: standard input is empty (expected: " + what + " on its first line)");
      }
      return line;
    }
    if (!context.interactive()) {
      throw CliException.usage(
          "no terminal to ask for " + what + " at: use --password-stdin (e.g. from a secret file)");
    }
    return prompt(promptText);
  }

  private String prompt(String promptText) {
    char[] typed = context.terminal().readPassword(promptText);
    if (typed == null || typed.length == 0) {
      throw CliException.usage("no password given");
    }
    String text = new String(typed);
    Arrays.fill(typed, '\0');
    return text;
  }

  private String readStdinLine() {
    try {
      if (stdin == null) {
        stdin = new BufferedReader(new InputStreamReader(context.in(), StandardCharsets.UTF_8));
      }
      String line = stdin.readLine();
      return line == null ? null : stripLineEnd(line);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read standard input", e);
    }
  }

  private static String stripLineEnd(String line) {
    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
  }
}
