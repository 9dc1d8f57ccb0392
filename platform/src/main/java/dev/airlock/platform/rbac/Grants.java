package dev.airlock.platform.rbac;

import dev.airlock.platform.api.model.ResourceKind;
import dev.airlock.platform.api.model.Rule;
import dev.airlock.platform.api.model.Verb;
import java.util.List;
import java.util.Map;

/**
 * What a caller's roles allow: their rules, evaluated deny-first. Nothing is allowed unless an
 * allow rule matches, and any matching deny rule wins over every allow. A rule on {@code connect}
 * also covers {@code view}.
 */
public record Grants(List<Rule> rules) {

  public static final Grants NONE = new Grants(List.of());

  public Grants {
    rules = List.copyOf(rules);
  }

  /** Whether {@code verb} on an object of {@code kind} carrying {@code labels} is allowed. */
  public boolean allows(String kind, String verb, Map<String, String> labels) {
    boolean allowed = false;
    for (Rule rule : rules) {
      if (applies(rule, kind, verb) && selects(rule.getLabels(), labels)) {
        if (rule.getEffect() == Rule.EffectEnum.DENY) {
          return false;
        }
        allowed = true;
      }
    }
    return allowed;
  }

  /**
   * Whether {@code verb} on {@code kind} could be allowed for some object: an allow rule applies
   * and no deny rule applies to every object. Used to refuse early, before objects are read.
   */
  public boolean mayAllow(String kind, String verb) {
    boolean allowed = false;
    for (Rule rule : rules) {
      if (applies(rule, kind, verb)) {
        boolean everyObject = rule.getLabels() == null || rule.getLabels().isEmpty();
        if (rule.getEffect() == Rule.EffectEnum.DENY && everyObject) {
          return false;
        }
        if (rule.getEffect() == Rule.EffectEnum.ALLOW) {
          allowed = true;
        }
      }
    }
    return allowed;
  }

  private static boolean applies(Rule rule, String kind, String verb) {
    boolean kindMatches =
        rule.getResources().stream()
            .anyMatch(r -> r == ResourceKind.STAR || r.getValue().equals(kind));
    boolean verbMatches =
        rule.getVerbs().stream()
            .anyMatch(v -> v == Verb.STAR || v.getValue().equals(verb) || implies(v, verb));
    return kindMatches && verbMatches;
  }

  // Controlling a remote session includes watching it: a rule on `connect` also covers `view`
  // (an allow grants both; a deny refuses both).
  private static boolean implies(Verb ruleVerb, String verb) {
    return ruleVerb == Verb.CONNECT && Verb.VIEW.getValue().equals(verb);
  }

  private static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    if (selector == null || selector.isEmpty()) {
      return true;
    }
    if (labels == null) {
      return false;
    }
    for (var entry : selector.entrySet()) {
      String value = labels.get(entry.getKey());
      if (value == null || !("*".equals(entry.getValue()) || entry.getValue().equals(value))) {
        return false;
      }
    }
    return true;
  }
}
