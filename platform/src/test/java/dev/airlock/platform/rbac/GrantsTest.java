package dev.airlock.platform.rbac;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.platform.api.model.ResourceKind;
import dev.airlock.platform.api.model.Rule;
import dev.airlock.platform.api.model.Verb;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GrantsTest {

  private static final Map<String, String> BLUE = Map.of("team", "blue");
  private static final Map<String, String> RED = Map.of("team", "red");

  @Test
  void mayConnectMeansMayAlsoViewButNotTheOtherWayRound() {
    Grants control = new Grants(List.of(rule(Rule.EffectEnum.ALLOW, Verb.CONNECT, BLUE)));
    assertThat(control.allows("agent", "connect", BLUE)).isTrue();
    assertThat(control.allows("agent", "view", BLUE)).isTrue();
    assertThat(control.allows("agent", "view", RED)).as("other labels").isFalse();

    Grants watch = new Grants(List.of(rule(Rule.EffectEnum.ALLOW, Verb.VIEW, BLUE)));
    assertThat(watch.allows("agent", "view", BLUE)).isTrue();
    assertThat(watch.allows("agent", "connect", BLUE)).isFalse();
  }

  @Test
  void denyingConnectRefusesViewingToo() {
    Grants grants =
        new Grants(
            List.of(
                rule(Rule.EffectEnum.ALLOW, Verb.STAR, Map.of()),
                rule(Rule.EffectEnum.DENY, Verb.CONNECT, RED)));
    assertThat(grants.allows("agent", "view", RED)).isFalse();
    assertThat(grants.allows("agent", "connect", RED)).isFalse();
    assertThat(grants.allows("agent", "view", BLUE)).isTrue();
  }

  @Test
  void anSshLoginNeedsAnAllowRuleListingItOrAStar() {
    Rule deployOnBlue = rule(Rule.EffectEnum.ALLOW, Verb.CONNECT, BLUE).logins(List.of("deploy"));
    Grants grants = new Grants(List.of(deployOnBlue));
    assertThat(grants.allowsLogin(BLUE, "deploy")).isTrue();
    assertThat(grants.allowsLogin(BLUE, "root")).isFalse();
    assertThat(grants.allowsLogin(RED, "deploy")).as("other labels").isFalse();

    Grants noLogins = new Grants(List.of(rule(Rule.EffectEnum.ALLOW, Verb.CONNECT, BLUE)));
    assertThat(noLogins.allows("agent", "connect", BLUE)).isTrue();
    assertThat(noLogins.allowsLogin(BLUE, "deploy")).as("an allow without logins").isFalse();

    Grants anyone =
        new Grants(List.of(rule(Rule.EffectEnum.ALLOW, Verb.STAR, Map.of()).logins(List.of("*"))));
    assertThat(anyone.allowsLogin(RED, "root")).isTrue();

    Rule viewOnly = rule(Rule.EffectEnum.ALLOW, Verb.VIEW, BLUE).logins(List.of("*"));
    assertThat(new Grants(List.of(viewOnly)).allowsLogin(BLUE, "deploy"))
        .as("logins on a rule that does not cover connect")
        .isFalse();
  }

  @Test
  void aDenyRuleListingALoginRefusesThatLoginOnly() {
    Grants grants =
        new Grants(
            List.of(
                rule(Rule.EffectEnum.ALLOW, Verb.CONNECT, Map.of()).logins(List.of("*")),
                rule(Rule.EffectEnum.DENY, Verb.STAR, RED).logins(List.of("root"))));
    assertThat(grants.allowsLogin(RED, "root")).isFalse();
    assertThat(grants.allowsLogin(BLUE, "root")).as("the deny selects red only").isTrue();
    assertThat(grants.allowsLogin(RED, "deploy")).isTrue();
    assertThat(grants.allows("agent", "connect", RED)).as("connect itself").isTrue();
    assertThat(grants.mayAllow("agent", "connect")).isTrue();

    Grants denyAnyLogin =
        new Grants(
            List.of(
                rule(Rule.EffectEnum.ALLOW, Verb.CONNECT, Map.of()).logins(List.of("deploy")),
                rule(Rule.EffectEnum.DENY, Verb.CONNECT, Map.of()).logins(List.of("*"))));
    assertThat(denyAnyLogin.allowsLogin(BLUE, "deploy")).isFalse();
    assertThat(denyAnyLogin.allows("agent", "connect", BLUE)).isTrue();
  }

  @Test
  void aDenyOfConnectWithoutLoginsRefusesEveryLogin() {
    Grants grants =
        new Grants(
            List.of(
                rule(Rule.EffectEnum.ALLOW, Verb.CONNECT, Map.of()).logins(List.of("*")),
                rule(Rule.EffectEnum.DENY, Verb.CONNECT, RED)));
    assertThat(grants.allowsLogin(RED, "deploy")).isFalse();
    assertThat(grants.allowsLogin(BLUE, "deploy")).isTrue();
  }

  private static Rule rule(Rule.EffectEnum effect, Verb verb, Map<String, String> labels) {
    Rule rule = new Rule(effect, List.of(ResourceKind.AGENT), List.of(verb));
    rule.setLabels(labels);
    return rule;
  }
}
