package dev.airlock.cli;

import dev.airlock.sdk.model.TokenPair;
import java.time.Duration;
import java.time.Instant;

/**
 * The login {@code airlock login} keeps in the credentials file: the platform, the user, and the
 * current token pair with the instants at which each token expires. The refresh token is single
 * use: every refresh replaces the whole record.
 */
record StoredLogin(
    String url,
    String username,
    String accessToken,
    Instant accessTokenExpiresAt,
    String refreshToken,
    Instant refreshTokenExpiresAt) {

  /** An access token this close to its expiry is refreshed before use. */
  static final Duration REFRESH_MARGIN = Duration.ofSeconds(30);

  /** The record for a pair just received. */
  static StoredLogin of(String url, String username, TokenPair pair, Instant receivedAt) {
    return new StoredLogin(
        url,
        username,
        pair.getAccessToken(),
        receivedAt.plusSeconds(seconds(pair.getExpiresIn())),
        pair.getRefreshToken(),
        receivedAt.plusSeconds(seconds(pair.getRefreshExpiresIn())));
  }

  private static long seconds(Integer value) {
    return value == null ? 0 : Math.max(0, value);
  }

  /** Whether every field is present (a hand-edited or truncated file may lack some). */
  boolean complete() {
    return url != null
        && username != null
        && accessToken != null
        && accessTokenExpiresAt != null
        && refreshToken != null
        && refreshTokenExpiresAt != null;
  }

  /** Whether the access token can still be sent at {@code now} without refreshing it first. */
  boolean accessTokenUsableAt(Instant now) {
    return now.plus(REFRESH_MARGIN).isBefore(accessTokenExpiresAt);
  }

  /** Whether the refresh token has not expired at {@code now}. */
  boolean refreshTokenUsableAt(Instant now) {
    return now.isBefore(refreshTokenExpiresAt);
  }

  /** Names the login without its tokens, so that it can be printed or logged. */
  @Override
  public String toString() {
    return "StoredLogin["
        + username
        + " at "
        + url
        + ", refresh until "
        + refreshTokenExpiresAt
        + "]";
  }
}
