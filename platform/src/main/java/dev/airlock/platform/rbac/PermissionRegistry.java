package dev.airlock.platform.rbac;

import dev.airlock.platform.api.model.ResourceKind;
import dev.airlock.platform.api.model.Verb;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.core.io.ClassPathResource;
import org.springframework.stereotype.Component;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The permission of every operation, read from {@code x-airlock-permission} in the very spec the
 * platform serves. Start-up fails when an operation declares none or declares one it cannot parse,
 * so nothing is ever served without a decision on who may call it.
 */
@Component
public class PermissionRegistry {

  /** Where the served spec lives on the class path. */
  public static final String SPEC = "static/openapi/airlock.yaml";

  private static final String[] METHODS = {"get", "put", "post", "delete", "patch"};

  private final Map<String, Permission> byOperation;

  public PermissionRegistry() {
    this.byOperation = load();
  }

  /** The permission of {@code operationId}, if the spec has that operation. */
  public Optional<Permission> forOperation(String operationId) {
    return Optional.ofNullable(byOperation.get(operationId));
  }

  /** Every operation and its permission. */
  public Map<String, Permission> all() {
    return byOperation;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Permission> load() {
    Map<String, Object> spec;
    try (InputStream in = new ClassPathResource(SPEC).getInputStream()) {
      spec = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + SPEC, e);
    }
    Map<String, Permission> permissions = new LinkedHashMap<>();
    var paths = (Map<String, Map<String, Object>>) spec.get("paths");
    paths.forEach(
        (path, item) -> {
          for (String method : METHODS) {
            var operation = (Map<String, Object>) item.get(method);
            if (operation == null) {
              continue;
            }
            String id = (String) operation.get("operationId");
            String where = method.toUpperCase() + " " + path + " (" + id + ")";
            permissions.put(id, parse(where, operation.get("x-airlock-permission")));
          }
        });
    return Map.copyOf(permissions);
  }

  @SuppressWarnings("unchecked")
  static Permission parse(String where, Object declared) {
    if ("public".equals(declared)) {
      return new Permission(Permission.Scope.PUBLIC, null, null, false);
    }
    if ("authenticated".equals(declared)) {
      return new Permission(Permission.Scope.AUTHENTICATED, null, null, false);
    }
    if (declared instanceof Map<?, ?> map) {
      var m = (Map<String, Object>) map;
      Object kind = m.get("resource");
      Object verb = m.get("verb");
      try {
        ResourceKind.fromValue(String.valueOf(kind));
        Verb.fromValue(String.valueOf(verb));
      } catch (IllegalArgumentException e) {
        throw invalid(where, declared);
      }
      if ("*".equals(kind) || "*".equals(verb)) {
        throw invalid(where, declared);
      }
      return new Permission(
          Permission.Scope.RESOURCE,
          (String) kind,
          (String) verb,
          Boolean.TRUE.equals(m.get("self")));
    }
    throw invalid(where, declared);
  }

  private static IllegalStateException invalid(String where, Object declared) {
    return new IllegalStateException(
        where
            + " declares x-airlock-permission: "
            + declared
            + " (expected: public, authenticated, or {resource: KIND, verb: VERB, self: BOOL}"
            + " with a kind and verb of the spec's ResourceKind and Verb other than *)");
  }
}
