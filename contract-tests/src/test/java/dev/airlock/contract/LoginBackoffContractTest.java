package dev.airlock.contract;

import static dev.airlock.contract.Problems.assertProblem;
import static dev.airlock.contract.Problems.problemOf;
import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.contract.Accounts.Account;
import dev.airlock.contract.harness.AuditTrail;
import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.AuditOutcome;
import java.time.Duration;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** Password guessing: five failures in a row lock the account for a while, and that is audited. */
@ContractTest
class LoginBackoffContractTest {

  @Test
  void fiveWrongPasswordsLockTheAccountEvenAgainstTheRightOne(ContractPlatform platform) {
    Account victim = new Accounts(platform).user("victim");
    AuditTrail audit = new AuditTrail(platform::admin);
    long lockedBefore = audit.newestSeq("user.locked", null);
    long loginsBefore = audit.newestSeq("auth.login", null);
    AirlockClient guesser = platform.newClient();

    for (int attempt = 1; attempt <= 4; attempt++) {
      assertProblem(
          guesser.login(victim.username(), "wrong-password-" + attempt),
          401,
          "invalid-credentials");
    }
    AirlockProblemException fifth = problemOf(guesser.login(victim.username(), "wrong-password-5"));
    assertThat(fifth.status()).as(fifth.getMessage()).isIn(401, 429);

    AirlockProblemException locked =
        assertProblem(guesser.login(victim.username(), victim.password()), 429, "account-locked");
    assertThat(locked.retryAfter())
        .as("Retry-After of the first lock")
        .hasValueSatisfying(
            delay -> assertThat(delay).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(30)));

    Predicate<AuditEvent> aboutVictim =
        event ->
            victim.username().equals(event.getTarget())
                || victim.user().getId().toString().equals(event.getTarget())
                || victim.username().equals(event.getActor())
                || victim.user().getId().toString().equals(event.getActorId());
    audit.awaitEvent("user.locked", null, lockedBefore, aboutVictim);
    audit.awaitEvent(
        "auth.login",
        null,
        loginsBefore,
        aboutVictim.and(event -> event.getOutcome() != AuditOutcome.SUCCESS));
  }
}
