package dev.airlock.platform.agent;

import dev.airlock.platform.api.model.AgentKind;
import dev.airlock.platform.api.model.FieldError;
import dev.airlock.platform.api.model.TunnelTarget;
import dev.airlock.platform.problem.ApiProblem;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The targets an edge node declares (at enrolment and at every connect): checked, kept only for
 * agents of kind {@code node}, and stored as JSON text. Only declared targets are reachable through
 * a node's tunnel, so the platform refuses a session to any other name before the node is asked.
 */
@Component
public class TunnelTargets {

  private static final TypeReference<List<TunnelTarget>> LIST = new TypeReference<>() {};

  private final JsonMapper json;

  public TunnelTargets(JsonMapper json) {
    this.json = json;
  }

  /**
   * Fails with a validation problem (naming each entry of {@code field}) when the declaration
   * contradicts itself: a kind that is not its name's prefix, a TCP port above 65535, or a name
   * declared twice. The spec's pattern has already checked each name's form.
   */
  public static void check(String field, List<TunnelTarget> targets) {
    if (targets == null) {
      return;
    }
    List<FieldError> errors = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < targets.size(); i++) {
      TunnelTarget target = targets.get(i);
      String name = target.getName();
      String at = field + "[" + i + "]";
      String expectedKind = name.contains(":") ? name.substring(0, name.indexOf(':')) : name;
      if (!expectedKind.equals(target.getKind().getValue())) {
        errors.add(
            new FieldError(
                at + ".kind",
                "'"
                    + target.getKind().getValue()
                    + "' for target "
                    + name
                    + " (expected: "
                    + expectedKind
                    + ")"));
      }
      // The pattern allows five digits; only the TCP port range is meaningful.
      if (name.startsWith("tcp:") && Integer.parseInt(name.substring(4)) > 65535) {
        errors.add(new FieldError(at + ".name", "'" + name + "' (expected: tcp:1..tcp:65535)"));
      }
      if (!seen.add(name)) {
        errors.add(
            new FieldError(at + ".name", "'" + name + "' is declared twice (expected: unique)"));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiProblem.validation(errors);
    }
  }

  /**
   * What an agent of {@code kind} keeps of a declaration: the targets for an edge node, nothing for
   * desktops and containers (which cannot be reached through a tunnel).
   */
  public static List<TunnelTarget> kept(AgentKind kind, List<TunnelTarget> declared) {
    return kind == AgentKind.NODE && declared != null ? List.copyOf(declared) : List.of();
  }

  /** The column value for {@code targets} of an agent of {@code kind}: JSON, or null. */
  public String column(AgentKind kind, List<TunnelTarget> targets) {
    return kind == AgentKind.NODE ? json.writeValueAsString(kept(kind, targets)) : null;
  }

  /** The targets stored in {@code column}; empty when it is null. */
  public List<TunnelTarget> parse(String column) {
    return column == null ? List.of() : json.readValue(column, LIST);
  }
}
