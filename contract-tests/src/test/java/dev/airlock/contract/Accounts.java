package dev.airlock.contract;

import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.RoleCreate;
import dev.airlock.sdk.model.Rule;
import dev.airlock.sdk.model.User;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.sdk.model.Verb;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Users and roles made by the admin for one test, each with a name no other test uses, so tests
 * never depend on each other's data.
 */
final class Accounts {

  /** A user the admin created, with the password it was given. */
  record Account(User user, String password) {

    String username() {
      return user.getUsername();
    }
  }

  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ContractPlatform platform;

  Accounts(ContractPlatform platform) {
    this.platform = platform;
  }

  /** A name that matches both the username and the role name patterns, unique in this run. */
  static String uniqueName(String purpose) {
    byte[] random = new byte[3];
    RANDOM.nextBytes(random);
    StringBuilder suffix = new StringBuilder();
    for (byte b : random) {
      suffix.append(Integer.toString(b & 0xff, 36));
    }
    return ("ct-" + purpose + "-" + SEQUENCE.incrementAndGet() + "-" + suffix).toLowerCase();
  }

  static String newPassword() {
    byte[] random = new byte[15];
    RANDOM.nextBytes(random);
    return "pw-" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  static Rule allow(ResourceKind resource, Verb... verbs) {
    return rule(Rule.EffectEnum.ALLOW, resource, verbs);
  }

  static Rule deny(ResourceKind resource, Verb... verbs) {
    return rule(Rule.EffectEnum.DENY, resource, verbs);
  }

  private static Rule rule(Rule.EffectEnum effect, ResourceKind resource, Verb... verbs) {
    return new Rule().effect(effect).resources(List.of(resource)).verbs(List.of(verbs));
  }

  /** Creates a role with these rules, as the admin; returns its name. */
  String role(String purpose, Rule... rules) {
    String name = uniqueName(purpose);
    platform
        .admin()
        .roles()
        .createRole(new RoleCreate().name(name).rules(List.of(rules)))
        .block(CALL_TIMEOUT);
    return name;
  }

  /** Creates a user holding these roles (possibly none), as the admin. */
  Account user(String purpose, String... roles) {
    String password = newPassword();
    User user =
        platform
            .admin()
            .users()
            .createUser(
                new UserCreate()
                    .username(uniqueName(purpose))
                    .password(password)
                    .roles(List.of(roles)))
            .block(CALL_TIMEOUT);
    return new Account(user, password);
  }

  /** A new client logged in as the account. */
  AirlockClient login(Account account) {
    return platform.loginAs(account.username(), account.password());
  }
}
