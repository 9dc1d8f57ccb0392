package dev.airlock.contract;

import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.ApiKeyCreated;
import dev.airlock.sdk.model.TokenPair;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * No credential reaches the platform's output: not the tokens it issued, not an API key's secret,
 * not a password it was sent. (The first start prints the one-time password on the console by
 * design; that is the only secret it ever prints.) Runs late, so the output holds the whole suite's
 * traffic.
 */
@ContractTest
@Order(Integer.MAX_VALUE - 2)
class SecretsNotLoggedContractTest {

  @Test
  void noTokenKeyOrPasswordIsEverWrittenToTheOutput(ContractPlatform platform) throws Exception {
    TokenPair pair =
        platform.newClient().login("admin", platform.adminPassword()).block(CALL_TIMEOUT);
    ApiKeyCreated key =
        platform
            .admin()
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("log-check").roles(List.of("admin")))
            .block(CALL_TIMEOUT);

    String output = Files.readString(platform.platformLog(), StandardCharsets.UTF_8);

    assertThat(output)
        .doesNotContain(pair.getAccessToken())
        .doesNotContain(pair.getRefreshToken())
        .doesNotContain(key.getSecret())
        .doesNotContain(platform.adminPassword())
        .doesNotContainPattern("eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}")
        .doesNotContainPattern("alk_[A-Za-z0-9_-]{20,}")
        .doesNotContainPattern("alr_[A-Za-z0-9_-]{20,}");
  }
}
