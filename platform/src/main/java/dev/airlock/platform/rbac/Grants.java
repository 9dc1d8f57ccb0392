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
 *
 * <p>SSH logins through a tunnel ({@link #allowsLogin}) are granted by the {@code logins} of allow
 * rules on {@code agent:connect}. A deny rule that lists logins refuses only those logins: it does
 * not refuse {@code connect} (or anything else) as a whole, so "ssh to production, but never as
 * root" is one allow rule and one deny rule.
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
      if (loginsOnly(rule)) {
        continue;
      }
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
      if (loginsOnly(rule)) {
        continue;
      }
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

  /**
   * Whether an SSH tunnel may log in as {@code login} on an agent carrying {@code labels}: {@code
   * agent:connect} is allowed there, some allow rule on {@code agent:connect} selecting those
   * labels lists {@code login} (or {@code *}) in its {@code logins}, and no deny rule on {@code
   * agent:connect} (or {@code *}) selecting them lists it (or {@code *}).
   */
  public boolean allowsLogin(Map<String, String> labels, String login) {
    boolean allowed = false;
    for (Rule rule : rules) {
      if (applies(rule, "agent", "connect")
          && selects(rule.getLabels(), labels)
          && lists(rule.getLogins(), login)) {
        if (rule.getEffect() == Rule.EffectEnum.DENY) {
          return false;
        }
        allowed = true;
      }
    }
    return allowed && allows("agent", "connect", labels);
  }

  private static boolean lists(List<String> logins, String login) {
    return logins != null && (logins.contains("*") || logins.contains(login));
  }

  // A deny rule naming logins is about those logins only; see the type's comment.
  private static boolean loginsOnly(Rule rule) {
    return rule.getEffect() == Rule.EffectEnum.DENY
        && rule.getLogins() != null
        && !rule.getLogins().isEmpty();
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
