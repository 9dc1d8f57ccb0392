package dev.airlock.contract;

import static dev.airlock.contract.Problems.assertProblem;
import static dev.airlock.contract.harness.ContractPlatform.ADMIN_USERNAME;
import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.model.Health;
import dev.airlock.sdk.model.HealthStatus;
import dev.airlock.sdk.model.JwkSet;
import dev.airlock.sdk.model.Me;
import dev.airlock.sdk.model.TokenPair;
import org.junit.jupiter.api.Test;

/** What an operator sees on a fresh install: the one-time admin password, health, the key set. */
@ContractTest
class FirstStartContractTest {

  @Test
  void theOneTimeAdminPasswordAllowsNothingButChangingIt(ContractPlatform platform) {
    ContractPlatform.FirstLogin first = platform.firstLogin();

    assertThat(first.tokens().getPasswordChangeRequired())
        .as("passwordChangeRequired after logging in with the one-time password")
        .isTrue();
    assertThat(first.listUsersRefusal())
        .as("listing users with the one-time password's token")
        .isNotNull()
        .satisfies(
            refusal -> {
              assertThat(refusal.status()).isEqualTo(403);
              assertThat(refusal.problemType())
                  .isEqualTo("urn:airlock:problem:password-change-required");
            });
  }

  @Test
  void afterTheChangeOnlyTheNewPasswordLogsIn(ContractPlatform platform) {
    TokenPair pair =
        platform.newClient().login(ADMIN_USERNAME, platform.adminPassword()).block(CALL_TIMEOUT);

    assertThat(pair.getPasswordChangeRequired()).isFalse();
    assertThat(pair.getTokenType()).isEqualTo(TokenPair.TokenTypeEnum.BEARER);
    assertThat(pair.getExpiresIn()).isBetween(1, 15 * 60);
    assertThat(pair.getRefreshExpiresIn()).isGreaterThan(pair.getExpiresIn());
    assertProblem(
        platform.newClient().login(ADMIN_USERNAME, platform.firstLogin().oneTimePassword()),
        401,
        "invalid-credentials");
    Me me = platform.admin().auth().getMe().block(CALL_TIMEOUT);
    assertThat(me.getUser().getUsername()).isEqualTo(ADMIN_USERNAME);
    assertThat(me.getAuthMethod()).isEqualTo(Me.AuthMethodEnum.PASSWORD);
    assertThat(me.getPasswordChangeRequired()).isFalse();
  }

  @Test
  void healthAndTheKeySetArePublic(ContractPlatform platform) {
    Health health = platform.newClient().health().getHealth().block(CALL_TIMEOUT);
    JwkSet keys = platform.newClient().auth().getJwks().block(CALL_TIMEOUT);

    assertThat(health.getStatus()).isEqualTo(HealthStatus.UP);
    assertThat(health.getDatabase()).isEqualTo(HealthStatus.UP);
    assertThat(keys.getKeys())
        .isNotEmpty()
        .allSatisfy(
            key -> {
              assertThat(key.getKid()).isNotBlank();
              assertThat(key.getKty()).isEqualTo("EC");
            });
  }
}
