package dev.airlock.platform.rbac;

import dev.airlock.platform.api.model.Rule;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** Stores rules and labels as JSON text in the database. */
@Component
public class RuleCodec {

  private static final TypeReference<List<Rule>> RULES = new TypeReference<>() {};
  private static final TypeReference<Map<String, String>> LABELS = new TypeReference<>() {};

  private final JsonMapper json;

  public RuleCodec(JsonMapper json) {
    this.json = json;
  }

  public String rules(List<Rule> rules) {
    return json.writeValueAsString(rules == null ? List.of() : rules);
  }

  public List<Rule> rules(String text) {
    return text == null ? List.of() : json.readValue(text, RULES);
  }

  public String labels(Map<String, String> labels) {
    return json.writeValueAsString(labels == null ? Map.of() : labels);
  }

  public Map<String, String> labels(String text) {
    return text == null ? Map.of() : json.readValue(text, LABELS);
  }
}
