package dev.airlock.contract.tunnel;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.JoinTokenCreate;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.Rule;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.sdk.model.Verb;
import dev.airlock.testkit.ManagedProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What the tunnel tests share: users with API keys for the CLI, the CLI as a process, and a real
 * {@code sshd} on an edge namespace's loopback that lets in a key the test makes.
 */
final class EdgeKit {

  static final Duration CALL = Duration.ofSeconds(30);

  private EdgeKit() {}

  /** What a finished CLI run printed, and how it exited. */
  record CliRun(int exit, String out, String err) {}

  /** A running sshd: the key it lets in (as root) and the known_hosts file clients use. */
  record Sshd(ManagedProcess process, Path userKey, Path knownHosts) {

    /**
     * {@code airlock ssh}'s arguments: OpenSSH options that log in with this server's key, keep its
     * host key in {@link #knownHosts} and never prompt, then {@code rest}.
     */
    String[] sshArgs(String... rest) {
      List<String> args =
          new ArrayList<>(
              List.of(
                  "ssh",
                  "-o",
                  "IdentityFile=" + userKey,
                  "-o",
                  "IdentitiesOnly=yes",
                  "-o",
                  "UserKnownHostsFile=" + knownHosts,
                  "-o",
                  "StrictHostKeyChecking=accept-new",
                  "-o",
                  "BatchMode=yes"));
      args.addAll(List.of(rest));
      return args.toArray(String[]::new);
    }
  }

  /** The CLI of {@code airlock.cli.jar}, for {@code baseUrl}, with files under {@code work}. */
  record Cli(String baseUrl, Path work) {

    ProcessBuilder process(String apiKey, String... args) {
      List<String> command =
          new ArrayList<>(
              List.of(
                  ManagedProcess.java(),
                  "-jar",
                  Path.of(System.getProperty("airlock.cli.jar")).toAbsolutePath().toString()));
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().put("AIRLOCK_URL", baseUrl);
      builder.environment().put("AIRLOCK_API_KEY", apiKey);
      builder.environment().put("AIRLOCK_CONFIG_DIR", work.resolve("cli-config").toString());
      return builder;
    }

    /** Runs the CLI to its end (at most two minutes), with nothing on standard input. */
    CliRun run(String apiKey, String... args) throws IOException, InterruptedException {
      ProcessBuilder builder = process(apiKey, args);
      Path out = work.resolve("cli-" + System.nanoTime() + ".out");
      Path err = work.resolve("cli-" + System.nanoTime() + ".err");
      builder.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
      builder.redirectOutput(out.toFile()).redirectError(err.toFile());
      Process process = builder.start();
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(
            "the CLI did not finish: " + String.join(" ", args) + "\n" + Files.readString(err));
      }
      return new CliRun(process.exitValue(), Files.readString(out), Files.readString(err));
    }
  }

  /** Closes what a test started, the last started first, going on past failures. */
  static void closeAll(List<AutoCloseable> started) {
    for (int i = started.size() - 1; i >= 0; i--) {
      try {
        started.get(i).close();
      } catch (Exception e) {
        // keep stopping the rest
      }
    }
  }

  /** A single-use join token of {@code admin}'s platform for an agent of {@code kind}. */
  static String joinToken(
      AirlockClient admin, AgentKind kind, Map<String, String> labels, String description) {
    return admin
        .agents()
        .createJoinToken(
            new JoinTokenCreate().kind(kind).labels(labels).maxUses(1).description(description))
        .block(CALL)
        .getToken();
  }

  /**
   * Starts {@code airlock.agent.jar} in {@code netns} with its state in {@code state} and {@code
   * settings} (its config file's lines, {@code state-dir} added); the process goes to {@code
   * toClose}.
   */
  static ManagedProcess agent(
      String name,
      String netns,
      Path state,
      List<String> settings,
      Path log,
      List<AutoCloseable> toClose)
      throws IOException {
    Files.createDirectories(state);
    Path config = state.resolve("agent.conf");
    List<String> lines = new ArrayList<>(settings);
    lines.add("state-dir = " + state);
    Files.write(config, lines);
    ManagedProcess agent =
        ManagedProcess.start(
            name,
            netns,
            List.of(
                ManagedProcess.java(),
                "-jar",
                Path.of(System.getProperty("airlock.agent.jar")).toAbsolutePath().toString(),
                "--config",
                config.toString()),
            log);
    toClose.add(agent);
    return agent;
  }

  /** Lets a user make an API key for the CLI. */
  static Rule ownApiKeys() {
    return new Rule()
        .effect(Rule.EffectEnum.ALLOW)
        .resources(List.of(ResourceKind.API_KEY))
        .verbs(List.of(Verb.CREATE));
  }

  /** A new user of {@code admin}'s platform holding {@code role}, logged in at {@code baseUrl}. */
  static AirlockClient user(AirlockClient admin, String baseUrl, String name, String role) {
    String password = name + "'s long password";
    admin
        .users()
        .createUser(new UserCreate().username(name).password(password).roles(List.of(role)))
        .block(CALL);
    AirlockClient client = AirlockClient.builder().baseUrl(baseUrl).build();
    client.login(name, password).block(CALL);
    return client;
  }

  /** An API key of {@code client}'s user with {@code role}. */
  static String apiKey(AirlockClient client, String role) {
    return client
        .apiKeys()
        .createApiKey(new ApiKeyCreate().name("cli").roles(List.of(role)))
        .block(CALL)
        .getSecret();
  }

  /**
   * Starts a real sshd in {@code netns} on its loopback port {@code port}, letting in a fresh key
   * as root; the process goes to {@code toClose}.
   */
  static Sshd sshd(Path dir, String netns, int port, List<AutoCloseable> toClose)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    run(
        List.of(
            "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", dir.resolve("host").toString()));
    Path userKey = dir.resolve("user");
    run(List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", userKey.toString()));
    Files.copy(dir.resolve("user.pub"), dir.resolve("authorized_keys"));
    Path config = dir.resolve("sshd_config");
    Files.write(
        config,
        List.of(
            "Port " + port,
            "ListenAddress 127.0.0.1",
            "HostKey " + dir.resolve("host"),
            "PidFile " + dir.resolve("sshd.pid"),
            "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no"));
    Files.createDirectories(Path.of("/run/sshd"));
    String sshd = System.getenv().getOrDefault("AIRLOCK_TEST_SSHD", "/usr/sbin/sshd");
    ManagedProcess server =
        ManagedProcess.start(
            "sshd-" + netns,
            netns,
            List.of(sshd, "-D", "-e", "-f", config.toString()),
            dir.resolve("sshd.log"));
    toClose.add(server);
    server.awaitLine("Server listening on 127.0.0.1 port " + port, 0, Duration.ofSeconds(30));
    return new Sshd(server, userKey, dir.resolve("known_hosts"));
  }

  /** Runs {@code command} to its end; fails with its output unless it exits with 0. */
  static void run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
    }
  }

  /** The repository's root (the build passes it as {@code airlock.repo.dir}). */
  static Path repo() {
    return Path.of(System.getProperty("airlock.repo.dir")).toAbsolutePath();
  }

  /** The API spec the responses are checked against (the build's {@code airlock.spec}). */
  static Path specPath() {
    return Path.of(System.getProperty("airlock.spec")).toAbsolutePath();
  }
}
