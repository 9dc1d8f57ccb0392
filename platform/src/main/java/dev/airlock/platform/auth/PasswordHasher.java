package dev.airlock.platform.auth;

import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Hashes and checks passwords with argon2id (16 MiB, 2 passes). Hashing is deliberately slow, so it
 * runs on its own bounded pool, never on an event loop.
 */
@Component
public class PasswordHasher {

  private final Argon2PasswordEncoder encoder =
      Argon2PasswordEncoder.defaultsForSpringSecurity_v5_8();
  private final Scheduler scheduler =
      Schedulers.newBoundedElastic(
          Math.max(2, Runtime.getRuntime().availableProcessors()), 10_000, "password-hash");

  // Checked against when the username is unknown, so the answer takes as long either way.
  private final String decoy = encoder.encode(Secrets.password(24));

  /** The encoded hash of {@code password}. */
  public Mono<String> hash(String password) {
    return Mono.fromCallable(() -> encoder.encode(password)).subscribeOn(scheduler);
  }

  /** Whether {@code password} matches {@code hash}; a null hash never matches, just as slowly. */
  public Mono<Boolean> matches(String password, String hash) {
    return Mono.fromCallable(
            () -> {
              boolean matches = encoder.matches(password, hash == null ? decoy : hash);
              return matches && hash != null;
            })
        .subscribeOn(scheduler);
  }
}
