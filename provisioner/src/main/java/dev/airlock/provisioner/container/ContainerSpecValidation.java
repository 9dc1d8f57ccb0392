package dev.airlock.provisioner.container;

import dev.airlock.provisioner.api.model.ContainerSpec;
import dev.airlock.provisioner.api.model.ProblemErrorsInner;
import dev.airlock.provisioner.api.model.Resources;
import dev.airlock.provisioner.problem.ApiProblem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks a key and a create request against openapi/provisioner.yaml (the generated models carry no
 * validation), including the rules its descriptions state in words: variable and label names. Every
 * error is collected, so one answer lists all of them. A message quotes names, never an environment
 * value.
 */
public final class ContainerSpecValidation {

  static final Pattern KEY = Pattern.compile("[a-z0-9][a-z0-9-]*");
  static final int KEY_MAX = 64;

  /**
   * A Swarm service name is at most 63 characters, so with {@code airlock-} a key is at most 55 in
   * Swarm mode.
   */
  static final int SWARM_KEY_MAX = 63 - OwnershipLabels.name("").length();

  private static final Pattern IMAGE = Pattern.compile("[a-z0-9][a-z0-9._/:@-]*");
  private static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-z0-9][a-z0-9._-]*");
  private static final Pattern CONSTRAINT =
      Pattern.compile("[A-Za-z0-9._-]+ *(==|!=) *[A-Za-z0-9._:/-]+");

  private ContainerSpecValidation() {}

  /** Checks a key from the path; throws a {@code validation} problem when it is not one. */
  public static void requireKey(String key) {
    List<ProblemErrorsInner> errors = new ArrayList<>();
    checkKey(key, errors);
    if (!errors.isEmpty()) {
      throw ApiProblem.validation(errors);
    }
  }

  /** Checks that a valid key also fits a Swarm service name. */
  public static void requireSwarmKey(String key) {
    if (key.length() > SWARM_KEY_MAX) {
      throw ApiProblem.validation(
          List.of(
              new ProblemErrorsInner(
                  "key",
                  key.length()
                      + " characters (expected: at most "
                      + SWARM_KEY_MAX
                      + " in Swarm mode, where the service airlock-<key> is at most 63)")));
    }
  }

  /** Checks a create request; returns it validated, or throws a {@code validation} problem. */
  public static ContainerRequest validate(String key, ContainerSpec spec) {
    List<ProblemErrorsInner> errors = new ArrayList<>();
    checkKey(key, errors);
    String image = spec.getImage();
    if (image == null) {
      errors.add(error("image", "missing (expected: an image reference, e.g. airlock/agent:dev)"));
    } else if (image.isEmpty() || image.length() > 255 || !IMAGE.matcher(image).matches()) {
      errors.add(
          error(
              "image",
              "'"
                  + shorten(image)
                  + "' (expected: 1 to 255 characters, [a-z0-9][a-z0-9._/:@-]*, e.g."
                  + " airlock/agent:dev)"));
    }
    if (spec.getProfile() == null) {
      errors.add(error("profile", "missing (expected: standard or strict)"));
    }
    Map<String, String> env = spec.getEnv() == null ? Map.of() : spec.getEnv();
    if (env.size() > 64) {
      errors.add(error("env", env.size() + " variables (expected: at most 64)"));
    }
    env.forEach(
        (name, value) -> {
          if (!ENV_NAME.matcher(name).matches()) {
            errors.add(error("env", "'" + shorten(name) + "' (expected: a name [A-Z_][A-Z0-9_]*)"));
          } else if (value == null) {
            errors.add(error("env." + name, "null (expected: a string)"));
          } else if (value.length() > 4096) {
            errors.add(
                error("env." + name, value.length() + " characters (expected: at most 4096)"));
          } else if (value.indexOf('\0') >= 0) {
            errors.add(error("env." + name, "holds a NUL character (expected: text)"));
          }
        });
    Map<String, String> labels = spec.getLabels() == null ? Map.of() : spec.getLabels();
    if (labels.size() > 32) {
      errors.add(error("labels", labels.size() + " labels (expected: at most 32)"));
    }
    labels.forEach(
        (name, value) -> {
          if (name.length() > 63 || !LABEL_NAME.matcher(name).matches()) {
            errors.add(
                error(
                    "labels",
                    "'"
                        + shorten(name)
                        + "' (expected: a name [a-z0-9][a-z0-9._-]*, at most 63 characters)"));
          } else if (value == null) {
            errors.add(error("labels." + name, "null (expected: a string)"));
          } else if (value.length() > 255) {
            errors.add(
                error("labels." + name, value.length() + " characters (expected: at most 255)"));
          }
        });
    checkResources(spec.getResources(), errors);
    List<String> constraints = spec.getConstraints() == null ? List.of() : spec.getConstraints();
    if (constraints.size() > 16) {
      errors.add(error("constraints", constraints.size() + " (expected: at most 16)"));
    }
    for (int i = 0; i < constraints.size(); i++) {
      String constraint = constraints.get(i);
      if (constraint == null
          || constraint.length() < 3
          || constraint.length() > 255
          || !CONSTRAINT.matcher(constraint).matches()) {
        errors.add(
            error(
                "constraints[" + i + "]",
                "'"
                    + shorten(String.valueOf(constraint))
                    + "' (expected: e.g. node.labels.zone==eu, 3 to 255 characters)"));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiProblem.validation(errors);
    }
    return new ContainerRequest(
        key,
        image,
        spec.getProfile(),
        new LinkedHashMap<>(env),
        new LinkedHashMap<>(labels),
        spec.getResources(),
        List.copyOf(constraints));
  }

  private static void checkKey(String key, List<ProblemErrorsInner> errors) {
    if (key == null || key.length() > KEY_MAX || !KEY.matcher(key).matches()) {
      errors.add(
          error(
              "key",
              "'"
                  + shorten(String.valueOf(key))
                  + "' (expected: 1 to 64 characters, [a-z0-9][a-z0-9-]*, e.g. a UUID)"));
    }
  }

  private static void checkResources(Resources resources, List<ProblemErrorsInner> errors) {
    if (resources == null) {
      return;
    }
    range(
        "resources.memoryBytes", resources.getMemoryBytes(), 33_554_432L, 68_719_476_736L, errors);
    range("resources.cpuMillis", resources.getCpuMillis(), 100, 64_000, errors);
    range("resources.pids", resources.getPids(), 16, 32_768, errors);
  }

  private static void range(
      String field, Number value, long min, long max, List<ProblemErrorsInner> errors) {
    if (value != null && (value.longValue() < min || value.longValue() > max)) {
      errors.add(error(field, value + " (expected: " + min + ".." + max + ")"));
    }
  }

  private static ProblemErrorsInner error(String field, String message) {
    return new ProblemErrorsInner(field, message);
  }

  private static String shorten(String text) {
    return text.length() <= 80 ? text : text.substring(0, 80) + "…";
  }
}
