package dev.airlock.sdk;

import reactor.core.publisher.Mono;

/** Where an {@link AirlockClient} gets the bearer credential it sends with a request. */
@FunctionalInterface
interface Credentials {

  /**
   * Returns the token to send as {@code Authorization: Bearer}, resolved when the request is sent
   * (not when it is built), or an empty {@code Mono} to send the request without credentials.
   */
  Mono<String> bearerToken();

  /** No credentials: only the platform's public operations will succeed. */
  static Credentials none() {
    return Mono::empty;
  }

  /** The same token on every request, never refreshed (an API key or a borrowed access token). */
  static Credentials fixed(String token) {
    Mono<String> just = Mono.just(token);
    return () -> just;
  }
}
