package dev.airlock.sdk;

import dev.airlock.sdk.api.AuthApi;
import dev.airlock.sdk.model.LoginRequest;
import dev.airlock.sdk.model.RefreshRequest;
import dev.airlock.sdk.model.TokenPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import reactor.core.publisher.Mono;

/**
 * The tokens of one password login, refreshed shortly before the access token expires.
 *
 * <p>Refresh tokens are single use and the platform revokes the whole session when one is presented
 * twice, so a refresh is single-flight: however many requests find the access token stale at once,
 * exactly one refresh call is made and all of them wait for its result.
 *
 * <p>Thread-safe. The monitor guards only in-memory state and is never held across I/O.
 */
final class TokenSession implements Credentials {

  /** The most time before expiry at which an access token is refreshed. */
  static final Duration MAX_REFRESH_MARGIN = Duration.ofSeconds(30);

  private final AuthApi publicAuth;
  private final Clock clock;

  private Tokens current;
  private Mono<Tokens> refreshing;

  /**
   * @param publicAuth an {@link AuthApi} that sends no credentials, for login and refresh
   * @param clock the clock that decides when the access token is stale
   */
  TokenSession(AuthApi publicAuth, Clock clock) {
    this.publicAuth = publicAuth;
    this.clock = clock;
  }

  /**
   * Logs in and, on success, replaces any tokens held before. On failure the tokens held before are
   * kept.
   */
  Mono<TokenPair> login(String username, String password) {
    return publicAuth
        .login(new LoginRequest().username(username).password(password))
        .doOnNext(pair -> replace(Tokens.of(pair, clock.instant())));
  }

  /** Forgets the tokens; requests go out without credentials until the next login. */
  synchronized void clear() {
    current = null;
    refreshing = null;
  }

  /** Whether a login's tokens are held. */
  synchronized boolean isLoggedIn() {
    return current != null;
  }

  @Override
  public Mono<String> bearerToken() {
    return Mono.defer(
        () -> {
          Tokens tokens;
          synchronized (this) {
            tokens = current;
          }
          if (tokens == null) {
            return Mono.empty();
          }
          if (clock.instant().isBefore(tokens.refreshAt())) {
            return Mono.just(tokens.accessToken());
          }
          return refresh(tokens).map(Tokens::accessToken);
        });
  }

  private synchronized Mono<Tokens> refresh(Tokens stale) {
    if (current != stale) {
      // Another request rotated (or cleared) the tokens since this one read them: reuse that
      // outcome rather than presenting the consumed refresh token again.
      return current == null ? Mono.empty() : Mono.just(current);
    }
    if (refreshing == null) {
      refreshing =
          publicAuth
              .refresh(new RefreshRequest().refreshToken(stale.refreshToken()))
              .map(pair -> Tokens.of(pair, clock.instant()))
              .doOnNext(fresh -> rotated(stale, fresh))
              .doOnError(error -> refreshFailed(stale, error))
              .cache();
    }
    return refreshing;
  }

  private synchronized void replace(Tokens tokens) {
    current = tokens;
    refreshing = null;
  }

  private synchronized void rotated(Tokens stale, Tokens fresh) {
    if (current == stale) {
      current = fresh;
    }
    refreshing = null;
  }

  private synchronized void refreshFailed(Tokens stale, Throwable error) {
    if (current == stale
        && error instanceof AirlockProblemException problem
        && problem.status() == 401) {
      // The platform refused the refresh token: the session is over, a new login is needed.
      current = null;
    }
    refreshing = null;
  }

  /** One token pair and the instant at which its access token counts as stale. */
  record Tokens(String accessToken, String refreshToken, Instant refreshAt) {

    static Tokens of(TokenPair pair, Instant receivedAt) {
      Integer expiresIn = pair.getExpiresIn();
      Duration lifetime = Duration.ofSeconds(expiresIn == null ? 0 : Math.max(0, expiresIn));
      Duration margin = lifetime.dividedBy(5);
      if (margin.compareTo(MAX_REFRESH_MARGIN) > 0) {
        margin = MAX_REFRESH_MARGIN;
      }
      return new Tokens(
          pair.getAccessToken(), pair.getRefreshToken(), receivedAt.plus(lifetime).minus(margin));
    }
  }
}
