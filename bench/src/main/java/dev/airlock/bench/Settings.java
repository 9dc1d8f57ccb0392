package dev.airlock.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The driver's command line, {@code --key=value} each; every phase is bounded by time and by a
 * request count.
 */
record Settings(
    int concurrency,
    int loginConcurrency,
    Duration warmup,
    Duration duration,
    long maxRequests,
    String openLoop,
    double goalFraction,
    double goalP99Millis,
    List<Double> sustainableFractions,
    int maxInFlight,
    Path platformJar,
    String databaseServer,
    List<String> platformJvmArgs,
    Duration startTimeout,
    double quietBelow,
    Duration quietWait,
    String baseUrl,
    String adminUser,
    String adminPassword,
    long databasePid,
    Set<String> scenarios,
    boolean serveBare) {

  static final List<String> ALL_SCENARIOS =
      List.of("bare", "jwks", "health", "me-jwt", "audit", "me-apikey", "login");

  static final String USAGE =
      """
      java -jar bench/target/airlock-bench.jar [--key=value ...]

        --concurrency=64          requests in flight per closed-loop phase (login excepted)
        --login-concurrency=8     requests in flight for POST /api/v1/auth/login (argon2id)
        --warmup=5s               warm-up of every phase (not measured): 500ms, 5s, 1m
        --duration=15s            measured time of every phase
        --max-requests=10000000   a phase's measurement also ends after this many responses
        --open-loop=auto          auto | always | off: fixed-rate phases for the authenticated
                                  reads (auto: only when their p99 at full load misses the goal)
        --goal-fraction=0.35      goal: authenticated read >= this share of the bare req/s ...
        --goal-p99-ms=20          ... with p99 below this at that rate
        --sustainable-fractions=0.25,0.5,0.75  open-loop rates, as shares of the read's own
                                  maximum, when goal-fraction x bare is out of its reach
        --max-in-flight=256       open loop: at most this many requests outstanding
        --scenarios=bare,jwks,health,me-jwt,audit,me-apikey,login
        --platform-jar=platform/target/airlock-platform.jar
        --database-server=mysql://root:@127.0.0.1:3306   a fresh database is created and dropped
        --platform-jvm-args="-Xmx1g ..."                  extra JVM options for the platform
        --start-timeout=180s
        --quiet-below=20          before each phase, wait until the machine is less than this
                                  many percent busy (other work on shared cores), ...
        --quiet-wait=120s         ... but no longer than this; --quiet-below=100 never waits
        --base-url=http://host:port  use a running platform instead of starting one
        --admin-user=admin --admin-password=...        its administrator (password not one-time)
        --database-pid=<pid>      the database server's process, for its CPU time per request
                                  (found by itself when it runs on this machine)
      """;

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)?");

  static Settings parse(String[] args) {
    Map<String, String> given = new LinkedHashMap<>();
    for (String arg : args) {
      if (arg.equals("--help") || arg.equals("-h")) {
        System.out.println(USAGE);
        System.exit(0);
      }
      if (arg.equals("--serve-bare")) {
        given.put("serve-bare", "true");
        continue;
      }
      int eq = arg.indexOf('=');
      if (!arg.startsWith("--") || eq < 0) {
        throw new IllegalArgumentException("argument: " + arg + " (expected: --key=value)");
      }
      given.put(arg.substring(2, eq), arg.substring(eq + 1));
    }
    Options o = new Options(given);
    Set<String> scenarios =
        new LinkedHashSet<>(
            Arrays.asList(o.text("scenarios", String.join(",", ALL_SCENARIOS)).split(",")));
    for (String scenario : scenarios) {
      if (!ALL_SCENARIOS.contains(scenario)) {
        throw new IllegalArgumentException(
            "scenarios: " + scenario + " (expected: some of " + ALL_SCENARIOS + ")");
      }
    }
    String openLoop = o.text("open-loop", "auto");
    if (!List.of("auto", "always", "off").contains(openLoop)) {
      throw new IllegalArgumentException("open-loop: " + openLoop + " (expected: auto|always|off)");
    }
    String baseUrl = o.text("base-url", null);
    String adminPassword = o.text("admin-password", null);
    if (baseUrl != null && adminPassword == null) {
      throw new IllegalArgumentException(
          "admin-password: missing (expected with --base-url: the administrator's password)");
    }
    String jvmArgs = o.text("platform-jvm-args", "").trim();
    Settings settings =
        new Settings(
            o.positive("concurrency", 64),
            o.positive("login-concurrency", 8),
            o.duration("warmup", "5s"),
            o.duration("duration", "15s"),
            o.positive("max-requests", 10_000_000L),
            openLoop,
            o.number("goal-fraction", 0.35),
            o.number("goal-p99-ms", 20),
            o.numbers("sustainable-fractions", "0.25,0.5,0.75"),
            o.positive("max-in-flight", 256),
            platformJar(o.text("platform-jar", null)),
            o.text("database-server", "mysql://root:@127.0.0.1:3306"),
            jvmArgs.isEmpty() ? List.of() : List.of(jvmArgs.split("\\s+")),
            o.duration("start-timeout", "180s"),
            o.number("quiet-below", 20),
            o.duration("quiet-wait", "120s"),
            baseUrl,
            o.text("admin-user", "admin"),
            adminPassword,
            o.positive("database-pid", 0L),
            scenarios,
            o.given.containsKey("serve-bare"));
    o.rejectUnknown();
    if (settings.duration.isZero()) {
      throw new IllegalArgumentException("duration: 0 (expected: more than 0)");
    }
    return settings;
  }

  private static Path platformJar(String given) {
    if (given != null) {
      return Path.of(given);
    }
    // Run from the repository root or from bench/.
    for (String candidate :
        List.of(
            "platform/target/airlock-platform.jar", "../platform/target/airlock-platform.jar")) {
      if (Files.isRegularFile(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    return Path.of("platform/target/airlock-platform.jar");
  }

  private static final class Options {
    private final Map<String, String> given;
    private final List<String> used = new ArrayList<>();

    Options(Map<String, String> given) {
      this.given = given;
      used.add("serve-bare");
    }

    String text(String key, String fallback) {
      used.add(key);
      return given.getOrDefault(key, fallback);
    }

    int positive(String key, int fallback) {
      return (int) positive(key, (long) fallback);
    }

    long positive(String key, long fallback) {
      String value = text(key, null);
      if (value == null) {
        return fallback;
      }
      try {
        long parsed = Long.parseLong(value.replace("_", ""));
        if (parsed > 0) {
          return parsed;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(key + ": " + value + " (expected: a whole number > 0)");
    }

    double number(String key, double fallback) {
      String value = text(key, null);
      if (value == null) {
        return fallback;
      }
      try {
        double parsed = Double.parseDouble(value);
        if (parsed > 0) {
          return parsed;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(key + ": " + value + " (expected: a number > 0)");
    }

    List<Double> numbers(String key, String fallback) {
      String value = text(key, fallback);
      List<Double> parsed = new ArrayList<>();
      for (String part : value.split(",")) {
        try {
          double number = Double.parseDouble(part.trim());
          if (number > 0) {
            parsed.add(number);
            continue;
          }
        } catch (NumberFormatException e) {
          // reported below
        }
        throw new IllegalArgumentException(
            key + ": " + value + " (expected: numbers > 0 separated by commas)");
      }
      return List.copyOf(parsed);
    }

    Duration duration(String key, String fallback) {
      String value = text(key, fallback);
      Matcher m = DURATION.matcher(value);
      if (!m.matches()) {
        throw new IllegalArgumentException(key + ": " + value + " (expected: e.g. 500ms, 15s, 2m)");
      }
      long amount = Long.parseLong(m.group(1));
      String unit = m.group(2) == null ? "s" : m.group(2);
      return switch (unit) {
        case "ms" -> Duration.ofMillis(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofSeconds(amount);
      };
    }

    void rejectUnknown() {
      for (String key : given.keySet()) {
        if (!used.contains(key)) {
          throw new IllegalArgumentException(
              "--" + key + ": unknown option (expected one of these:)\n" + USAGE);
        }
      }
    }
  }
}
