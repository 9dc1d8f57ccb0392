package dev.airlock.contract;

import static dev.airlock.contract.Accounts.allow;
import static dev.airlock.contract.Accounts.deny;
import static dev.airlock.contract.Problems.assertProblem;
import static dev.airlock.contract.Problems.assertProblemAmong;
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
import dev.airlock.sdk.model.Verb;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Deny by default, deny over allow, and no reaching into another user's objects. */
@ContractTest
class AuthorisationContractTest {

  private static final int[] FORBIDDEN_OR_NOT_FOUND = {403, 404};

  @Test
  void aMatchingDenyWinsOverAnyAllow(ContractPlatform platform) {
    Accounts accounts = new Accounts(platform);
    String listers = accounts.role("listers", allow(ResourceKind.USER, Verb.LIST));
    String everything = accounts.role("everything", allow(ResourceKind.STAR, Verb.STAR));
    String noListing = accounts.role("no-listing", deny(ResourceKind.USER, Verb.LIST));
    AirlockClient control = accounts.login(accounts.user("control", listers));
    AirlockClient denied = accounts.login(accounts.user("denied", listers, noListing));
    AirlockClient deniedDespiteStar = accounts.login(accounts.user("star", everything, noListing));

    assertThat(control.users().listUsers(null, null).block(CALL_TIMEOUT).getItems()).isNotEmpty();
    assertProblem(denied.users().listUsers(null, null), 403, "forbidden");
    assertProblem(deniedDespiteStar.users().listUsers(null, null), 403, "forbidden");
    assertThat(deniedDespiteStar.roles().listRoles(null, null).block(CALL_TIMEOUT).getItems())
        .as("what the wildcard still allows")
        .isNotEmpty();
  }

  @Test
  void aUserWithoutRolesMayOnlyLookAtThemselves(ContractPlatform platform) {
    Accounts accounts = new Accounts(platform);
    Account nobody = accounts.user("nobody");
    AirlockClient client = accounts.login(nobody);

    assertProblem(client.users().listUsers(null, null), 403, "forbidden");
    assertProblem(client.roles().listRoles(null, null), 403, "forbidden");
    assertProblem(
        client.audit().listAuditEvents(null, null, null, null, null, null, null), 403, "forbidden");
    assertProblem(client.audit().verifyAuditChain(), 403, "forbidden");

    Me me = client.auth().getMe().block(CALL_TIMEOUT);
    assertThat(me.getUser().getId()).isEqualTo(nobody.user().getId());
    assertThat(me.getRules()).isEmpty();
    assertThat(client.users().getUser(nobody.user().getId()).block(CALL_TIMEOUT).getUsername())
        .as("reading oneself needs no rule (self: true)")
        .isEqualTo(nobody.username());
    assertThat(client.apiKeys().listApiKeys(null, null, null).block(CALL_TIMEOUT).getItems())
        .as("one's own (absent) API keys")
        .isEmpty();
  }

  @Test
  void oneUserCannotReadOrRevokeAnotherUsersObjects(ContractPlatform platform) {
    Accounts accounts = new Accounts(platform);
    String keyMakers = accounts.role("key-makers", allow(ResourceKind.API_KEY, Verb.CREATE));
    Account a = accounts.user("a", keyMakers);
    Account b = accounts.user("b", keyMakers);
    AirlockClient asA = accounts.login(a);
    AirlockClient asB = accounts.login(b);
    ApiKeyCreated keyOfB =
        asB.apiKeys()
            .createApiKey(new ApiKeyCreate().name("b-key").roles(List.of(keyMakers)))
            .block(CALL_TIMEOUT);

    assertProblemAmong(
        asA.apiKeys().getApiKey(keyOfB.getId()), FORBIDDEN_OR_NOT_FOUND, "forbidden", "not-found");
    assertProblemAmong(
        asA.apiKeys().revokeApiKey(keyOfB.getId()),
        FORBIDDEN_OR_NOT_FOUND,
        "forbidden",
        "not-found");
    assertProblemAmong(
        asA.apiKeys().listApiKeys(b.user().getId(), null, null),
        FORBIDDEN_OR_NOT_FOUND,
        "forbidden",
        "not-found");
    assertProblemAmong(
        asA.users().getUser(b.user().getId()), FORBIDDEN_OR_NOT_FOUND, "forbidden", "not-found");

    assertThat(asB.apiKeys().getApiKey(keyOfB.getId()).block(CALL_TIMEOUT).getRevoked())
        .as("B's key after A tried to revoke it")
        .isFalse();
    assertThat(
            platform
                .newClient()
                .withApiKey(keyOfB.getSecret())
                .auth()
                .getMe()
                .block(CALL_TIMEOUT)
                .getApiKeyId())
        .isEqualTo(keyOfB.getId());
  }
}
