package dev.airlock.bench;

import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * Measures, in one bounded run on loopback, the throughput and latency of a bare reactor-netty
 * endpoint (the ceiling) and of the platform's health, identity, audit and login operations, and
 * prints them as Markdown tables with each one's share of the ceiling.
 *
 * <p>Unless {@code --base-url} names a running platform, it starts the platform jar as a child
 * process against a fresh database, and at the end stops it and drops the database. Run with {@code
 * --help} for the options.
 */
public final class LoadDriver {

  private static final List<String> AUTHENTICATED_READS = List.of("me-jwt", "audit", "me-apikey");

  private final Settings settings;
  private final List<PhaseResult> closedLoop = new ArrayList<>();
  private final List<PhaseResult> openLoop = new ArrayList<>();

  private LoadDriver(Settings settings) {
    this.settings = settings;
  }

  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = Settings.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    if (settings.serveBare()) {
      BareEndpoint.serve();
      System.exit(0);
    }
    int status;
    try {
      status = new LoadDriver(settings).run();
    } catch (Exception e) {
      System.err.println("The benchmark failed: " + e);
      e.printStackTrace();
      status = 1;
    }
    // reactor-netty's event loops would otherwise keep the JVM alive.
    System.exit(status);
  }

  private int run() throws Exception {
    String machine = Machine.describe();
    progress("Machine:\n" + machine);
    BareEndpoint bare = BareEndpoint.start();
    PlatformUnderTest platform = null;
    try {
      progress("Bare endpoint at " + bare.baseUrl() + "; starting the platform");
      platform =
          settings.baseUrl() == null
              ? PlatformUnderTest.start(settings)
              : PlatformUnderTest.attach(settings);
      progress("Platform at " + platform.describe());

      CpuMeter platformCpu =
          new CpuMeter(platform.process().orElse(null), databaseProcess(platform).orElse(null));
      Load onBare =
          new Load(
              settings.warmup(),
              settings.duration(),
              settings.maxRequests(),
              platformCpu.forServer(bare.process()));
      Load onPlatform =
          new Load(settings.warmup(), settings.duration(), settings.maxRequests(), platformCpu);

      Map<String, Callable<Endpoint>> scenarios = scenarios(bare, platform);
      for (String name : settings.scenarios()) {
        if (name.equals("audit")) {
          platform.ensureAuditEvents(50);
        }
        Endpoint endpoint = scenarios.get(name).call();
        int inFlight = name.equals("login") ? settings.loginConcurrency() : settings.concurrency();
        settle();
        progress("Closed loop: " + endpoint.label() + ", " + inFlight + " in flight");
        PhaseResult result =
            (name.equals("bare") ? onBare : onPlatform).closedLoop(endpoint, inFlight);
        progress("  " + summary(result));
        closedLoop.add(result);
      }

      Optional<PhaseResult> ceiling = find(closedLoop, "bare");
      if (!settings.openLoop().equals("off") && ceiling.isPresent()) {
        long highest = 0;
        for (String name : AUTHENTICATED_READS) {
          Optional<PhaseResult> max = find(closedLoop, name);
          if (max.isEmpty()
              || (settings.openLoop().equals("auto")
                  && max.get().percentileMillis(99) < settings.goalP99Millis())) {
            continue;
          }
          for (long rate : openLoopRates(ceiling.get().rate(), max.get().rate())) {
            Endpoint endpoint = scenarios.get(name).call();
            settle();
            progress("Open loop: " + endpoint.label() + " at " + rate + "/s");
            PhaseResult result = onPlatform.openLoop(endpoint, rate, settings.maxInFlight());
            progress("  " + summary(result));
            openLoop.add(result);
            highest = Math.max(highest, rate);
          }
        }
        if (highest > 0) {
          // What the driver itself adds at the highest rate: its floor under every figure.
          Endpoint endpoint = scenarios.get("bare").call();
          settle();
          progress("Open loop: " + endpoint.label() + " at " + highest + "/s (baseline)");
          PhaseResult result = onBare.openLoop(endpoint, highest, settings.maxInFlight());
          progress("  " + summary(result));
          openLoop.add(result);
        }
      }

      List<String> logProblems = platform.logProblems(15);
      System.out.println(report(machine, platform, logProblems));
      return 0;
    } finally {
      if (platform != null) {
        platform.close();
      }
      bare.close(); // it also stops by itself when this JVM exits: its standard input closes
    }
  }

  /**
   * Waits, at most {@code --quiet-wait}, until the machine is quieter than {@code --quiet-below}
   * percent: between phases nothing of this run is busy, so what is left is other work that would
   * otherwise be measured too. The tables' "(others)" figure says how well that worked.
   */
  private void settle() throws InterruptedException {
    if (settings.quietBelow() >= 100) {
      return;
    }
    long deadline = System.nanoTime() + settings.quietWait().toNanos();
    double busy = CpuMeter.machineBusyOver(Duration.ofSeconds(1));
    boolean waited = false;
    while (100 * busy >= settings.quietBelow() && System.nanoTime() < deadline) {
      if (!waited) {
        progress(
            String.format(
                Locale.ROOT,
                "  waiting for other work to end: machine %.0f%% busy (--quiet-below=%s)",
                100 * busy,
                fmt(settings.quietBelow(), 0)));
        waited = true;
      }
      busy = CpuMeter.machineBusyOver(Duration.ofSeconds(2));
    }
    if (waited) {
      progress(String.format(Locale.ROOT, "  machine %.0f%% busy; going on", 100 * busy));
    }
  }

  /**
   * The goal's rate when the read reached it with closed-loop load; otherwise shares of the read's
   * own maximum, to find the highest rate it sustains within the latency goal.
   */
  private List<Long> openLoopRates(double bareRate, double maxRate) {
    long goalRate = Math.round(settings.goalFraction() * bareRate);
    if (goalRate <= 0.95 * maxRate) {
      return List.of(goalRate);
    }
    return settings.sustainableFractions().stream()
        .map(f -> Math.max(1, Math.round(f * maxRate)))
        .distinct()
        .toList();
  }

  private Map<String, Callable<Endpoint>> scenarios(BareEndpoint bare, PlatformUnderTest platform) {
    String api = platform.baseUrl();
    Map<String, Callable<Endpoint>> scenarios = new LinkedHashMap<>();
    scenarios.put(
        "bare",
        () ->
            new Endpoint(
                "bare",
                "GET /bare (bare reactor-netty, the ceiling)",
                bare.baseUrl(),
                HttpMethod.GET,
                BareEndpoint.PATH,
                null,
                null,
                200));
    // Public and served from memory: what the framework alone costs, without database or crypto.
    scenarios.put(
        "jwks",
        () ->
            new Endpoint(
                "jwks",
                "GET /api/v1/auth/jwks (public; no DB)",
                api,
                HttpMethod.GET,
                "/api/v1/auth/jwks",
                null,
                null,
                200));
    scenarios.put(
        "health",
        () ->
            new Endpoint(
                "health",
                "GET /api/v1/health (public; SELECT 1)",
                api,
                HttpMethod.GET,
                "/api/v1/health",
                null,
                null,
                200));
    // Access tokens live 10 minutes by default: each phase logs in for a fresh one.
    scenarios.put(
        "me-jwt",
        () ->
            new Endpoint(
                "me-jwt",
                "GET /api/v1/auth/me (access token)",
                api,
                HttpMethod.GET,
                "/api/v1/auth/me",
                "Bearer " + platform.freshAccessToken(),
                null,
                200));
    scenarios.put(
        "audit",
        () ->
            new Endpoint(
                "audit",
                "GET /api/v1/audit/events?limit=50 (access token; full page)",
                api,
                HttpMethod.GET,
                "/api/v1/audit/events?limit=50",
                "Bearer " + platform.freshAccessToken(),
                null,
                200));
    scenarios.put(
        "me-apikey",
        () ->
            new Endpoint(
                "me-apikey",
                "GET /api/v1/auth/me (API key)",
                api,
                HttpMethod.GET,
                "/api/v1/auth/me",
                "Bearer " + platform.apiKeySecret(),
                null,
                200));
    scenarios.put(
        "login",
        () ->
            new Endpoint(
                "login",
                "POST /api/v1/auth/login (argon2id)",
                api,
                HttpMethod.POST,
                "/api/v1/auth/login",
                null,
                "{\"username\":"
                    + jsonString(platform.username())
                    + ",\"password\":"
                    + jsonString(platform.password())
                    + "}",
                200));
    return scenarios;
  }

  private Optional<ProcessHandle> databaseProcess(PlatformUnderTest platform) {
    if (settings.databasePid() > 0) {
      return ProcessHandle.of(settings.databasePid());
    }
    if (platform.process().isEmpty()) {
      return Optional.empty();
    }
    URI server = URI.create(settings.databaseServer());
    String host = server.getHost();
    if (!"127.0.0.1".equals(host) && !"localhost".equals(host)) {
      return Optional.empty();
    }
    return CpuMeter.localDatabaseServer(server.getPort() < 0 ? 3306 : server.getPort());
  }

  private String report(String machine, PlatformUnderTest platform, List<String> logProblems) {
    int cores = Runtime.getRuntime().availableProcessors();
    double bareRate = find(closedLoop, "bare").map(PhaseResult::rate).orElse(Double.NaN);
    StringBuilder out = new StringBuilder();
    out.append("\n# Airlock load benchmark\n\n").append(machine).append("\n\n");
    out.append(
        String.format(
            Locale.ROOT,
            "The driver, the bare endpoint (its own JVM), the platform (its own JVM, %s) and"
                + " the database share these %d cores: every figure is a floor for a machine"
                + " where they do not. CPU busy counts all cores; (others) is the part used by"
                + " processes other than the server, the database and the driver. Loopback"
                + " HTTP/1.1 keep-alive; each phase: %s warm-up, then %s measured (or %,d"
                + " responses).%n%n",
            platform.describe(),
            cores,
            seconds(settings.warmup()),
            seconds(settings.duration()),
            settings.maxRequests()));

    out.append("## Maximum throughput (closed loop: a fixed number of requests in flight)\n\n");
    table(out, closedLoop, bareRate);

    if (!openLoop.isEmpty()) {
      out.append(
          "\n## At a fixed rate (open loop: latency counted from when each request was due)\n\n");
      table(out, openLoop, bareRate);
    }

    out.append("\n## Goal: authenticated read ≥ ")
        .append(settings.goalFraction())
        .append(" × bare req/s, p99 < ")
        .append(fmt(settings.goalP99Millis(), 0))
        .append(" ms at that rate\n\n");
    for (String name : AUTHENTICATED_READS) {
      find(closedLoop, name).ifPresent(max -> out.append(goal(max, bareRate)).append('\n'));
    }

    List<PhaseResult> withErrors = new ArrayList<>(closedLoop);
    withErrors.addAll(openLoop);
    withErrors.removeIf(r -> r.errors() == 0);
    out.append("\n## Errors\n\n");
    if (withErrors.isEmpty()) {
      out.append("None: every response had the expected status.\n");
    }
    for (PhaseResult r : withErrors) {
      out.append("- ")
          .append(r.label())
          .append(" at ")
          .append(r.load())
          .append(": ")
          .append(r.errors())
          .append(" errors, statuses ")
          .append(r.statuses())
          .append('\n');
      r.errorSamples().forEach(s -> out.append("  - `").append(s).append("`\n"));
    }
    if (platform.process().isPresent()) {
      out.append("\n## Platform log: WARN and ERROR lines\n\n");
      if (logProblems.isEmpty()) {
        out.append("None.\n");
      }
      logProblems.forEach(l -> out.append("- `").append(l).append("`\n"));
    }
    return out.toString();
  }

  private String goal(PhaseResult max, double bareRate) {
    double share = max.rate() / bareRate;
    String limit = fmt(settings.goalP99Millis(), 0) + " ms";
    StringBuilder line =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "- %s: at most %,.0f req/s = %s × bare (%s the %.2f share); p99 %s ms at that"
                    + " load",
                max.label(),
                max.rate(),
                fmt(share, 3),
                share >= settings.goalFraction() ? "meets" : "misses",
                settings.goalFraction(),
                fmt(max.percentileMillis(99), 2)));
    List<PhaseResult> fixed =
        openLoop.stream().filter(r -> r.scenario().equals(max.scenario())).toList();
    for (PhaseResult r : fixed) {
      line.append(
          String.format(
              Locale.ROOT,
              "; p99 %s ms at a fixed %s (%s × bare)",
              fmt(r.percentileMillis(99), 2),
              r.load(),
              fmt(r.targetRate() / bareRate, 3)));
    }
    if (!fixed.isEmpty()) {
      Optional<PhaseResult> best =
          fixed.stream()
              .filter(r -> r.percentileMillis(99) < settings.goalP99Millis() && r.errors() == 0)
              .max((a, b) -> Double.compare(a.targetRate(), b.targetRate()));
      line.append(
          best.map(
                  r ->
                      String.format(
                          Locale.ROOT,
                          ". Highest rate tried with p99 < %s: %s (%s × bare)",
                          limit,
                          r.load(),
                          fmt(r.targetRate() / bareRate, 3)))
              .orElse(". No rate tried kept p99 < " + limit));
    }
    return line.toString();
  }

  private static void table(StringBuilder out, List<PhaseResult> results, double bareRate) {
    out.append(
        "| request | load | req/s | × bare | p50 ms | p90 ms | p99 ms | max ms | errors |"
            + " bytes/resp | server CPU µs/req | DB CPU µs/req | driver CPU µs/req |"
            + " CPU busy (others) |\n");
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (PhaseResult r : results) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %,.0f | %s | %s | %s | %s | %s | %d | %,d | %s | %s | %s | %s |%n",
              r.label(),
              r.load(),
              r.rate(),
              fmt(r.rate() / bareRate, 3),
              fmt(r.percentileMillis(50), 2),
              fmt(r.percentileMillis(90), 2),
              fmt(r.percentileMillis(99), 2),
              fmt(r.maxMillis(), 1),
              r.errors(),
              r.meanBytes(),
              fmt(r.microsPerResponse(r.cpu().serverNanos()), 0),
              fmt(r.microsPerResponse(r.cpu().databaseNanos()), 0),
              fmt(r.microsPerResponse(r.cpu().driverNanos()), 0),
              r.cpu().machineBusy() < 0
                  ? "n/a"
                  : String.format(
                      Locale.ROOT,
                      "%.0f%% (%.0f%%)",
                      100 * r.cpu().machineBusy(),
                      100 * r.cpu().othersBusy())));
    }
  }

  private static String summary(PhaseResult r) {
    return String.format(
        Locale.ROOT,
        "%,.0f req/s, p50 %s ms, p99 %s ms, max %s ms, %d errors %s",
        r.rate(),
        fmt(r.percentileMillis(50), 2),
        fmt(r.percentileMillis(99), 2),
        fmt(r.maxMillis(), 1),
        r.errors(),
        r.statuses().entrySet().stream()
            .map(e -> e.getKey() + "×" + e.getValue())
            .collect(Collectors.joining(", ", "(", ")")));
  }

  private static String seconds(Duration duration) {
    return fmt(duration.toMillis() / 1000.0, duration.toMillis() % 1000 == 0 ? 0 : 1) + " s";
  }

  private static String fmt(double value, int decimals) {
    return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", value);
  }

  private static Optional<PhaseResult> find(List<PhaseResult> results, String scenario) {
    return results.stream().filter(r -> r.scenario().equals(scenario)).findFirst();
  }

  private static String jsonString(String text) {
    return "\"" + text.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static void progress(String message) {
    System.err.println(message);
  }
}
