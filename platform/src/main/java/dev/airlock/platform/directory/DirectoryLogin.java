package dev.airlock.platform.directory;

import dev.airlock.platform.auth.SecretCipher;
import dev.airlock.platform.problem.ApiProblem;
import dev.airlock.platform.problem.ProblemType;
import dev.airlock.platform.user.UserRow;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Checks a directory user's password against their directory, never against the local hash: binds
 * as the source's bind DN, finds the user's entry by username (it must still be the entry the user
 * was synchronised from), and binds as that entry with the password, off the event loops.
 */
@Component
public class DirectoryLogin {

  private static final Logger log = LoggerFactory.getLogger(DirectoryLogin.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private final DirectorySources sources;
  private final SecretCipher cipher;

  public DirectoryLogin(DirectorySources sources, SecretCipher cipher) {
    this.sources = sources;
    this.cipher = cipher;
  }

  /**
   * Whether {@code password} is {@code user}'s directory password. Fails with an {@code
   * unavailable} problem when the source was removed, is disabled, or cannot be reached.
   */
  public Mono<Boolean> matches(UserRow user, String password) {
    Mono<DirectorySourceRow> source =
        user.directorySourceId() == null
            ? Mono.empty()
            : sources.findById(user.directorySourceId());
    return source
        .switchIfEmpty(
            Mono.error(
                () ->
                    unavailable(
                        "This account comes from a directory source that was removed; ask an"
                            + " administrator")))
        .flatMap(
            found -> {
              if (!found.enabled()) {
                return Mono.error(
                    unavailable(
                        "The directory "
                            + found.name()
                            + " this account comes from is disabled; ask an administrator"));
              }
              return Mono.fromCallable(() -> check(found, user, password))
                  .subscribeOn(Schedulers.boundedElastic())
                  .timeout(TIMEOUT)
                  .onErrorMap(
                      e ->
                          e instanceof DirectoryException
                              || e instanceof SecretCipher.UndecryptableSecret
                              || e instanceof TimeoutException,
                      e -> {
                        log.warn(
                            "directory source {}: cannot check the password of {}: {}",
                            found.name(),
                            user.username(),
                            e.getMessage());
                        return unavailable(
                            "The directory "
                                + found.name()
                                + " cannot check passwords now; try again later");
                      });
            });
  }

  private boolean check(DirectorySourceRow source, UserRow user, String password) {
    if (password == null || password.isEmpty()) {
      return false;
    }
    DirectoryServer server =
        new DirectoryServer(
            source, cipher.decrypt(source.sealedBindPassword(), source.id().toString()));
    return server
        .findUser(user.username())
        .filter(entry -> entry.key().equalsIgnoreCase(String.valueOf(user.externalKey())))
        .map(entry -> server.authenticate(entry.dn(), password))
        .orElse(false);
  }

  private static ApiProblem unavailable(String detail) {
    return new ApiProblem(
        ProblemType.UNAVAILABLE, detail, List.of(), Map.of(HttpHeaders.RETRY_AFTER, "30"));
  }
}
