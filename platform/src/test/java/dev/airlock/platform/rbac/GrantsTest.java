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

  private static Rule rule(Rule.EffectEnum effect, Verb verb, Map<String, String> labels) {
    Rule rule = new Rule(effect, List.of(ResourceKind.AGENT), List.of(verb));
    rule.setLabels(labels);
    return rule;
  }
}
