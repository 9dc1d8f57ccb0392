package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.RefreshRequest;
import dev.airlock.sdk.model.TokenPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Chooses the credentials a command sends and builds its client: {@code AIRLOCK_API_KEY} with
 * {@code AIRLOCK_URL} when set (CI scripts), else the login {@code airlock login} stored, its
 * access token refreshed first when it is about to expire.
 */
final class PlatformAccess {

  static final String URL_ENV = "AIRLOCK_URL";
  static final String API_KEY_ENV = "AIRLOCK_API_KEY";

  /** The longest a command waits for one answer (long polls are shorter). */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  private static final String NOT_LOGGED_IN =
      "not logged in: run 'airlock login', or set " + URL_ENV + " and " + API_KEY_ENV;

  private final CliContext context;
  private final CredentialStore store;
  private final Clock clock;

  PlatformAccess(CliContext context, CredentialStore store, Clock clock) {
    this.context = context;
    this.store = store;
    this.clock = clock;
  }

  /** Access as the environment and the stored login of this run say. */
  static PlatformAccess of(CliContext context) {
    return new PlatformAccess(context, CredentialStore.of(context), Clock.systemUTC());
  }

  /** A client without credentials for {@code url}, which names where it came from in errors. */
  static AirlockClient anonymous(String url, String source) {
    try {
      return AirlockClient.builder().baseUrl(url).responseTimeout(CALL_TIMEOUT).build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage(
          source
              + ": '"
              + url
              + "' (expected: the platform's http or https URL, e.g. https://airlock.example.com)");
    }
  }

  /**
   * The client for a command.
   *
   * @throws CliException (credentials) when there is no usable login, (usage) when {@code
   *     AIRLOCK_API_KEY} is set without {@code AIRLOCK_URL}
   */
  AirlockClient client() {
    String apiKey = context.env(API_KEY_ENV);
    String url = context.env(URL_ENV);
    if (apiKey != null) {
      if (url == null) {
        throw CliException.usage(
            API_KEY_ENV
                + " is set but "
                + URL_ENV
                + " is not (expected: the platform's URL, e.g. https://airlock.example.com)");
      }
      return anonymous(url, URL_ENV).withApiKey(apiKey);
    }
    StoredLogin login =
        store.load().orElseThrow(() -> new CliException(ExitStatus.CREDENTIALS, NOT_LOGGED_IN));
    if (url != null && !sameUrl(url, login.url())) {
      throw new CliException(
          ExitStatus.CREDENTIALS,
          "not logged in to "
              + url
              + " (the stored login is for "
              + login.url()
              + "): run 'airlock login --url "
              + url
              + "', or set "
              + API_KEY_ENV);
    }
    return loginClient(login);
  }

  /**
   * The client for a stored login, whatever the environment says; its access token is refreshed
   * first when it is about to expire.
   *
   * @throws CliException (credentials) when the login has expired or was ended
   */
  AirlockClient loginClient(StoredLogin login) {
    AirlockClient anonymous = anonymous(login.url(), "the stored login's URL");
    if (login.accessTokenUsableAt(clock.instant())) {
      return anonymous.withAccessToken(login.accessToken());
    }
    return anonymous.withAccessToken(refreshed(anonymous, login).accessToken());
  }

  /**
   * Refreshes the stored login under the store's lock. Another process may have refreshed it
   * meanwhile (the refresh token is single use): then its result is used as it is.
   */
  private StoredLogin refreshed(AirlockClient anonymous, StoredLogin stale) {
    return store.locked(
        () -> {
          Optional<StoredLogin> current = store.load();
          Instant now = clock.instant();
          if (current.isEmpty()) {
            throw new CliException(ExitStatus.CREDENTIALS, NOT_LOGGED_IN);
          }
          StoredLogin login = current.get();
          if (!login.url().equals(stale.url()) || login.accessTokenUsableAt(now)) {
            return login;
          }
          if (!login.refreshTokenUsableAt(now)) {
            throw expired(login);
          }
          TokenPair pair;
          try {
            pair =
                anonymous
                    .auth()
                    .refresh(new RefreshRequest().refreshToken(login.refreshToken()))
                    .block(CALL_TIMEOUT.plusSeconds(5));
          } catch (AirlockProblemException refused) {
            if (refused.status() == 401) {
              store.delete();
              throw expired(login);
            }
            throw refused;
          }
          StoredLogin fresh = StoredLogin.of(login.url(), login.username(), pair, clock.instant());
          store.save(fresh);
          return fresh;
        });
  }

  private static CliException expired(StoredLogin login) {
    return new CliException(
        ExitStatus.CREDENTIALS,
        "the login of "
            + login.username()
            + " to "
            + login.url()
            + " has expired or was ended: run 'airlock login' again");
  }

  static boolean sameUrl(String a, String b) {
    return strip(a).equalsIgnoreCase(strip(b));
  }

  static String strip(String url) {
    String text = url.strip();
    while (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    return text;
  }
}
