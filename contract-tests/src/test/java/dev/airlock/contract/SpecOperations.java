package dev.airlock.contract;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.oas.models.parameters.RequestBody;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * The operations of {@code openapi/airlock.yaml}, read with swagger-parser (so that a new operation
 * is tested as soon as the spec has it), and JSON values made from their schemas: valid ones, and
 * ones of the wrong JSON type.
 */
final class SpecOperations {

  /** One operation: its method, path template, parameters and JSON request body. */
  record Operation(
      String id,
      String method,
      String pathTemplate,
      List<Parameter> pathParameters,
      List<Parameter> queryParameters,
      Schema<?> body,
      boolean bodyRequired) {

    boolean hasBody() {
      return body != null;
    }

    /** The path with each parameter replaced by its (URL-encoded) value. */
    String path(Map<String, String> values) {
      String path = pathTemplate;
      for (Parameter parameter : pathParameters) {
        String value = values.get(parameter.getName());
        path =
            path.replace(
                "{" + parameter.getName() + "}",
                URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20"));
      }
      return path;
    }

    @Override
    public String toString() {
      return method + " " + pathTemplate + " (" + id + ")";
    }
  }

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  private SpecOperations() {}

  /** Every operation of the spec, in the spec's order. */
  static List<Operation> read(Path spec) {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    options.setResolveFully(true);
    OpenAPI api = new OpenAPIV3Parser().read(spec.toString(), null, options);
    if (api == null) {
      throw new IllegalStateException("Cannot parse " + spec);
    }
    List<Operation> operations = new ArrayList<>();
    api.getPaths()
        .forEach(
            (template, item) ->
                item.readOperationsMap()
                    .forEach(
                        (method, operation) ->
                            operations.add(toOperation(template, item, method, operation))));
    return operations;
  }

  private static Operation toOperation(
      String template,
      PathItem item,
      PathItem.HttpMethod method,
      io.swagger.v3.oas.models.Operation operation) {
    Map<String, Parameter> parameters = new LinkedHashMap<>();
    // Operation-level parameters override path-level ones of the same name and location.
    Stream.of(item.getParameters(), operation.getParameters())
        .filter(Objects::nonNull)
        .flatMap(List::stream)
        .forEach(p -> parameters.put(p.getIn() + ":" + p.getName(), p));
    List<Parameter> path =
        parameters.values().stream().filter(p -> "path".equals(p.getIn())).toList();
    List<Parameter> query =
        parameters.values().stream().filter(p -> "query".equals(p.getIn())).toList();
    Schema<?> body = null;
    boolean required = false;
    RequestBody requestBody = operation.getRequestBody();
    if (requestBody != null && requestBody.getContent() != null) {
      MediaType json = requestBody.getContent().get("application/json");
      if (json != null) {
        body = json.getSchema();
        required = Boolean.TRUE.equals(requestBody.getRequired());
      }
    }
    return new Operation(
        operation.getOperationId(), method.name(), template, path, query, body, required);
  }

  /** A value the schema accepts: only required properties, strings unique to this call. */
  static JsonNode valid(Schema<?> schema) {
    Schema<?> s = effective(schema);
    if (s.getEnum() != null && !s.getEnum().isEmpty()) {
      Object first = s.getEnum().get(0);
      if (first instanceof Number number) {
        return JSON.numberNode(new BigDecimal(number.toString()));
      }
      if (first instanceof Boolean bool) {
        return JSON.booleanNode(bool);
      }
      return JSON.stringNode(String.valueOf(first));
    }
    switch (type(s)) {
      case "string":
        return JSON.stringNode(validString(s));
      case "integer":
        return JSON.numberNode(integer(s));
      case "number":
        return JSON.numberNode(integer(s));
      case "boolean":
        return JSON.booleanNode(s.getDefault() instanceof Boolean b && b);
      case "array":
        ArrayNode array = JSON.arrayNode();
        int items = s.getMinItems() == null ? 0 : s.getMinItems();
        for (int i = 0; i < items; i++) {
          array.add(valid(s.getItems()));
        }
        return array;
      default:
        ObjectNode object = JSON.objectNode();
        if (s.getRequired() != null && s.getProperties() != null) {
          for (String name : s.getRequired()) {
            object.set(name, valid(s.getProperties().get(name)));
          }
        }
        return object;
    }
  }

  /** A value of another JSON type than the schema's. */
  static JsonNode wrongType(Schema<?> schema) {
    return switch (type(effective(schema))) {
      case "string" -> JSON.numberNode(12345);
      case "integer", "number" -> JSON.stringNode("not-a-number");
      case "boolean" -> JSON.stringNode("not-a-boolean");
      case "array" -> JSON.stringNode("not-an-array");
      default -> JSON.numberNode(42);
    };
  }

  /** The properties an object schema defines, by name. */
  static Map<String, Schema> properties(Schema<?> schema) {
    Map<String, Schema> properties = effective(schema).getProperties();
    return properties == null ? Map.of() : properties;
  }

  /** A value for a path or query parameter that its schema accepts. */
  static String validParameter(Parameter parameter) {
    return valid(parameter.getSchema()).asString();
  }

  /**
   * Values a parameter's schema refuses (wrong type, wrong format, out of range, breaking the
   * pattern), each with a short description; empty when the schema accepts any string.
   */
  static Map<String, String> invalidParameterValues(Parameter parameter) {
    Schema<?> s = effective(parameter.getSchema());
    Map<String, String> invalid = new LinkedHashMap<>();
    String type = type(s);
    if (type.equals("integer") || type.equals("number")) {
      invalid.put("not a number", "not-a-number");
      if (s.getMinimum() != null) {
        invalid.put("below the minimum", s.getMinimum().subtract(BigDecimal.ONE).toPlainString());
      }
      if (s.getMaximum() != null) {
        invalid.put("above the maximum", s.getMaximum().add(BigDecimal.ONE).toPlainString());
      }
      return invalid;
    }
    if (s.getEnum() != null && !s.getEnum().isEmpty()) {
      invalid.put("not one of the enum's values", "not-a-listed-value");
    }
    if ("uuid".equals(s.getFormat())) {
      invalid.put("not a UUID", "not-a-uuid");
    }
    if ("date-time".equals(s.getFormat())) {
      invalid.put("not a date-time", "yesterday");
    }
    if (s.getPattern() != null && !Pattern.compile(s.getPattern()).matcher("Not Valid!").find()) {
      invalid.put("breaking the pattern", "Not Valid!");
    }
    if (s.getMaxLength() != null) {
      invalid.put("too long", "a".repeat(s.getMaxLength() + 1));
    }
    return invalid;
  }

  /** The schema with a single-element {@code allOf} (used to attach a description) unwrapped. */
  private static Schema<?> effective(Schema<?> schema) {
    Schema<?> s = schema;
    while (s.getType() == null
        && s.getProperties() == null
        && s.getAllOf() != null
        && !s.getAllOf().isEmpty()) {
      s = s.getAllOf().get(0);
    }
    return s;
  }

  private static String type(Schema<?> s) {
    if (s.getType() != null) {
      return s.getType();
    }
    if (s.getTypes() != null && !s.getTypes().isEmpty()) {
      return s.getTypes().iterator().next();
    }
    return "object";
  }

  private static long integer(Schema<?> s) {
    if (s.getDefault() instanceof Number n) {
      return n.longValue();
    }
    return s.getMinimum() != null ? s.getMinimum().longValue() : 1;
  }

  private static String validString(Schema<?> s) {
    if ("uuid".equals(s.getFormat())) {
      return UUID.randomUUID().toString();
    }
    if ("date-time".equals(s.getFormat())) {
      return Instant.now().toString();
    }
    if ("email".equals(s.getFormat())) {
      return "ct-" + random(8) + "@example.com";
    }
    if (s.getPattern() != null
        && s.getExample() instanceof String example
        && Pattern.compile(s.getPattern()).matcher(example).find()) {
      return example;
    }
    int min = s.getMinLength() == null ? 1 : s.getMinLength();
    int max = s.getMaxLength() == null ? Integer.MAX_VALUE : s.getMaxLength();
    String candidate = "ct" + random(10);
    if (candidate.length() < min) {
      candidate = candidate + "a".repeat(min - candidate.length());
    }
    if (candidate.length() > max) {
      candidate = candidate.substring(0, max);
    }
    if (s.getPattern() != null && !Pattern.compile(s.getPattern()).matcher(candidate).find()) {
      throw new IllegalStateException(
          "Cannot make a value for the pattern "
              + s.getPattern()
              + ": give the schema an example that matches it");
    }
    return candidate;
  }

  private static String random(int length) {
    StringBuilder text = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      text.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
    }
    return text.toString();
  }
}
