package dev.airlock.contract;

import static dev.airlock.contract.Accounts.allow;
import static dev.airlock.contract.Problems.assertProblem;
import static dev.airlock.contract.Problems.assertUnauthenticated;
import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.contract.Accounts.Account;
import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.ApiKeyCreated;
import dev.airlock.sdk.model.Me;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.User;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.sdk.model.UserUpdate;
import dev.airlock.sdk.model.Verb;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The administrator's everyday flow, end to end: a role, a user holding it, what that user may and
 * may not do, and an API key the user creates, uses and revokes.
 */
@ContractTest
class AdminFlowContractTest {

  @Test
  void aUserGetsExactlyWhatTheirRolesAllowAndAutomatesWithAnApiKey(ContractPlatform platform) {
    Accounts accounts = new Accounts(platform);
    String readers = accounts.role("readers", allow(ResourceKind.USER, Verb.LIST, Verb.READ));
    Account alice = accounts.user("alice", readers);
    assertThat(alice.user().getRoles()).containsExactly(readers);

    AirlockClient asAlice = accounts.login(alice);
    assertThat(asAlice.users().listUsers(500, null).block(CALL_TIMEOUT).getItems())
        .extracting(User::getUsername)
        .contains(alice.username());
    assertThat(asAlice.users().getUser(alice.user().getId()).block(CALL_TIMEOUT).getUsername())
        .isEqualTo(alice.username());

    String intruder = Accounts.uniqueName("intruder");
    assertProblem(
        asAlice
            .users()
            .createUser(new UserCreate().username(intruder).password(Accounts.newPassword())),
        403,
        "forbidden");
    assertThat(platform.admin().users().listUsers(500, null).block(CALL_TIMEOUT).getItems())
        .as("users after the refused creation")
        .extracting(User::getUsername)
        .doesNotContain(intruder);

    String keyMakers = accounts.role("key-makers", allow(ResourceKind.API_KEY, Verb.CREATE));
    User updated =
        platform
            .admin()
            .users()
            .updateUser(alice.user().getId(), new UserUpdate().roles(List.of(readers, keyMakers)))
            .block(CALL_TIMEOUT);
    assertThat(updated.getRoles()).containsExactlyInAnyOrder(readers, keyMakers);

    asAlice = accounts.login(alice);
    ApiKeyCreated key =
        asAlice
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("ci").roles(List.of(readers)))
            .block(CALL_TIMEOUT);
    assertThat(key.getSecret()).startsWith("alk_");
    assertThat(key.getSecret()).startsWith(key.getPrefix());
    assertThat(key.getOwnerId()).isEqualTo(alice.user().getId());
    assertThat(key.getRoles()).containsExactly(readers);
    assertThat(key.getRevoked()).isFalse();
    assertThat(key.getExpiresAt()).isAfter(key.getCreatedAt());

    String readBack =
        asAlice
            .apiKeys()
            .getApiKeyWithResponseSpec(key.getId())
            .bodyToMono(String.class)
            .block(CALL_TIMEOUT);
    String listed =
        asAlice
            .apiKeys()
            .listApiKeysWithResponseSpec(null, 500, null)
            .bodyToMono(String.class)
            .block(CALL_TIMEOUT);
    assertThat(readBack)
        .as("GET of the key")
        .contains(key.getId().toString())
        .doesNotContain(key.getSecret());
    assertThat(listed)
        .as("the key list")
        .contains(key.getId().toString())
        .doesNotContain(key.getSecret());

    AirlockClient automation = platform.newClient().withApiKey(key.getSecret());
    Me me = automation.auth().getMe().block(CALL_TIMEOUT);
    assertThat(me.getAuthMethod()).isEqualTo(Me.AuthMethodEnum.API_KEY);
    assertThat(me.getApiKeyId()).isEqualTo(key.getId());
    assertThat(me.getUser().getId()).isEqualTo(alice.user().getId());
    assertThat(automation.users().listUsers(null, null).block(CALL_TIMEOUT).getItems())
        .isNotEmpty();
    assertProblem(
        automation
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("escalate").roles(List.of(readers))),
        403,
        "forbidden");

    asAlice.apiKeys().revokeApiKey(key.getId()).block(CALL_TIMEOUT);

    assertUnauthenticated(automation.auth().getMe());
    assertThat(asAlice.apiKeys().getApiKey(key.getId()).block(CALL_TIMEOUT).getRevoked()).isTrue();
  }
}
