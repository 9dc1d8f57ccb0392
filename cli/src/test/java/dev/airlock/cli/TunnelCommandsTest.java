package dev.airlock.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.cli.CliRunner.Result;
import dev.airlock.cli.StubPlatform.Received;
import dev.airlock.cli.StubPlatform.Reply;
import dev.airlock.cli.StubSignalNode.Mode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The tunnel commands ({@code nodes ls}, {@code proxy ssh|app|tcp}, {@code ssh}) against a stub
 * platform and a stub signal node on loopback: what they ask the platform for, the bytes they
 * carry, what they print, and how they fail. The real platform, signal node and edge agent are the
 * contract tests' ({@code TunnelContractTest}).
 */
class TunnelCommandsTest {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String API_KEY = "alk_tunnel_test_key_never_shown";
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Pattern FORWARDING =
      Pattern.compile("Forwarding (http://)?127\\.0\\.0\\.1:(\\d+) to (.*); Ctrl-C to stop\\n");

  @TempDir Path config;
  @TempDir Path work;

  private StubPlatform platform;
  private StubSignalNode node;

  @BeforeEach
  void start() throws IOException {
    platform = new StubPlatform();
    node = new StubSignalNode();
    platform.on(
        "GET",
        "/api/v1/agents",
        request ->
            Reply.json(
                200,
                "{\"items\":["
                    + agent("edge-1", true, "{\"site\":\"lab\"}", "ssh", "app:wiki", "tcp:6443")
                    + ","
                    + agent("edge-2", false, "{\"site\":\"dc\"}", "ssh", "app:wiki")
                    + ","
                    + agent("edge-3", true, "{}")
                    + "]}"));
    platform.on("POST", "/api/v1/sessions", request -> Reply.json(201, sessionCreated()));
  }

  @AfterEach
  void stop() {
    platform.close();
    node.close();
  }

  private CliRunner cli() {
    return CliRunner.withConfigDir(config)
        .env("AIRLOCK_URL", platform.baseUrl())
        .env("AIRLOCK_API_KEY", API_KEY);
  }

  private static String agent(String name, boolean online, String labels, String... targets) {
    StringBuilder list = new StringBuilder();
    for (String target : targets) {
      if (list.length() > 0) {
        list.append(',');
      }
      list.append("{\"name\":\"")
          .append(target)
          .append("\",\"kind\":\"")
          .append(target.split(":")[0])
          .append("\"}");
    }
    return """
        {"id":"%s","name":"%s","kind":"node","labels":%s,"dtlsFingerprint":"sha-256 AB:CD",
         "online":%s,"lastSeenAt":"2030-01-01T00:00:00Z","enrolledAt":"2029-12-01T00:00:00Z",
         "revoked":false,"targets":[%s]}"""
        .formatted(UUID.randomUUID(), name, labels, online, list);
  }

  private String sessionCreated() {
    return """
        {"id":"%s","userId":"%s","username":"ci","agentId":"%s","mode":"tunnel",
         "transport":"relay","state":"pending","createdAt":"2030-01-01T00:00:00Z",
         "connectToken":"eyJhbGciOiJFUzI1NiJ9.eyJzaWQiOiJ4In0.c2ln",
         "connectTokenExpiresAt":"2030-01-01T00:01:00Z","signalUrl":"%s","iceServers":[],
         "agentFingerprint":"sha-256 AB:CD"}"""
        .formatted(UUID.randomUUID(), UUID.randomUUID(), UUID.randomUUID(), node.url());
  }

  private List<JsonNode> sessionRequests() {
    return platform.received("POST", "/api/v1/sessions").stream()
        .map(request -> JSON.readTree(request.body()))
        .toList();
  }

  private static void assertOneErrorLine(Result result, int status, String line) {
    assertThat(result.exit()).as("%s", result).isEqualTo(status);
    assertThat(result.out()).as("%s", result).isEmpty();
    assertThat(result.err()).as("%s", result).isEqualTo(line + "\n");
  }

  // --- nodes ls ---------------------------------------------------------------------------------

  @Test
  void nodesLsShowsEachNodesPresenceLabelsAndTargets() {
    Result result = cli().run("nodes", "ls", "--label", "site=lab");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out().lines().toList())
        .containsExactly(
            "NAME    ONLINE  LABELS    TARGETS                LAST SEEN",
            "edge-1  yes     site=lab  ssh,app:wiki,tcp:6443  2030-01-01T00:00:00Z",
            "edge-2  no      site=dc   ssh,app:wiki           2030-01-01T00:00:00Z",
            "edge-3  yes     -         -                      2030-01-01T00:00:00Z");
    Received request = platform.received("GET", "/api/v1/agents").get(0);
    assertThat(request.query()).contains("kind=node").contains("label=site%3Dlab");
    assertThat(request.header("Authorization")).isEqualTo("Bearer " + API_KEY);
  }

  @Test
  void clustersLsAsksForTheAgentsOfKindClusterAndShowsTheirPresence() {
    Result result = cli().run("clusters", "ls");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out().lines().toList())
        .first()
        .isEqualTo("NAME    ONLINE  LABELS    LAST SEEN");
    assertThat(result.out()).contains("edge-2  no ");
    Received request = platform.received("GET", "/api/v1/agents").get(0);
    assertThat(request.query()).contains("kind=cluster");
  }

  @Test
  void nodesLsAsJsonIsTheApisAgents() {
    Result result = cli().run("nodes", "ls", "-o", "json");

    assertThat(result.exit()).as("%s", result).isZero();
    JsonNode nodes = JSON.readTree(result.out());
    assertThat(nodes.size()).isEqualTo(3);
    assertThat(nodes.get(0).get("name").asString()).isEqualTo("edge-1");
    assertThat(nodes.get(0).get("targets").get(1).get("name").asString()).isEqualTo("app:wiki");
  }

  // --- proxy ssh --------------------------------------------------------------------------------

  @Test
  void proxySshCarriesStandardInputAndOutputAndPrintsNothingElse() throws IOException {
    node.mode(Mode.SHOUT_ONCE);
    // Standard input stays open, as ssh keeps it: the stream ends when the target closes.
    PipedOutputStream typing = new PipedOutputStream();
    InputStream stdin = new PipedInputStream(typing);
    typing.write("ping".getBytes(StandardCharsets.US_ASCII));
    typing.flush();

    Result result = cli().runWithInput(stdin, "proxy", "ssh", "deploy@edge-1:22");
    typing.close();

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("PING");
    assertThat(result.err()).isEmpty();
    JsonNode request = sessionRequests().get(0);
    assertThat(request.get("target").asString()).isEqualTo("edge-1");
    assertThat(request.get("mode").asString()).isEqualTo("tunnel");
    assertThat(request.get("tunnelTarget").asString()).isEqualTo("ssh");
    assertThat(request.get("login").asString()).isEqualTo("deploy");
    assertThat(node.hellos.get(0).getConnectToken()).startsWith("eyJ");
  }

  @Test
  void theEndOfStandardInputEndsTheStream() {
    Result result = cli().runWithInput("", "proxy", "ssh", "deploy@edge-1");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.all()).isEmpty();
  }

  @Test
  void proxySshWithoutALoginSaysHowOpenSshShouldCallIt() {
    Result result = cli().run("proxy", "ssh", "edge-1:22");

    assertOneErrorLine(
        result,
        ExitStatus.USAGE,
        "airlock: no login in 'edge-1:22' (expected: LOGIN@NODE[:PORT]; with OpenSSH: ProxyCommand"
            + " airlock proxy ssh %r@%h:%p)");
    assertThat(sessionRequests()).isEmpty();
  }

  @Test
  void proxySshToATargetTheNodeCannotReachIsOneLineAndItsOwnStatus() {
    node.mode(Mode.UNREACHABLE);

    Result result = cli().run("proxy", "ssh", "deploy@edge-1:22");

    assertOneErrorLine(
        result,
        ExitStatus.TUNNEL_FAILED,
        "airlock: node edge-1 cannot reach ssh: connection refused (close 4502)");
  }

  @Test
  void proxySshRefusedByThePlatformSaysWhyAndShowsNoSecret() {
    platform.on(
        "POST",
        "/api/v1/sessions",
        request ->
            Reply.problem(
                403,
                "urn:airlock:problem:forbidden",
                "Forbidden",
                "no rule allows ssh as root on node edge-1"));

    Result result = cli().run("proxy", "ssh", "root@edge-1:22");

    assertOneErrorLine(
        result,
        ExitStatus.CREDENTIALS,
        "airlock: Forbidden: no rule allows ssh as root on node edge-1");
    assertThat(node.hellos).isEmpty();
  }

  // --- proxy app, proxy tcp ---------------------------------------------------------------------

  @Test
  void proxyAppNeedsANodeThatExposesTheApp() {
    assertOneErrorLine(
        cli().run("proxy", "app", "grafana", "--port", "0"),
        ExitStatus.NOT_FOUND,
        "airlock: no node you may see exposes app:grafana (see 'airlock nodes ls')");
  }

  @Test
  void proxyAppOnSeveralNodesAsksWhichOne() {
    assertOneErrorLine(
        cli().run("proxy", "app", "wiki", "--port", "0"),
        ExitStatus.USAGE,
        "airlock: several nodes expose app:wiki: edge-1, edge-2 (choose one with --node NODE)");
  }

  @Test
  void proxyAppOnANodeThatDoesNotExposeItSaysWhatItDoes() {
    assertOneErrorLine(
        cli().run("proxy", "app", "wiki", "--node", "edge-3", "--port", "0"),
        ExitStatus.NOT_FOUND,
        "airlock: node edge-3 does not expose app:wiki (it exposes nothing; see 'airlock nodes"
            + " ls')");
    assertOneErrorLine(
        cli().run("proxy", "tcp", "edge-2:5432", "--port", "0"),
        ExitStatus.NOT_FOUND,
        "airlock: node edge-2 does not expose tcp:5432 (it exposes ssh, app:wiki; see 'airlock"
            + " nodes ls')");
  }

  @Test
  void badArgumentsOfTheListenersAreUsageErrors() throws IOException {
    assertThat(cli().run("proxy", "tcp", "edge-1", "--port", "0").err())
        .isEqualTo(
            "airlock: 'edge-1' (expected: NODE:PORT with a port of 1..65535, e.g. edge-1:6443)\n");
    assertThat(cli().run("proxy", "tcp", "edge-1:0", "--port", "0").exit())
        .isEqualTo(ExitStatus.USAGE);
    assertThat(cli().run("proxy", "app", "Wiki!", "--port", "0").err())
        .startsWith("airlock: app name 'Wiki!' (expected: lower-case letters");
    assertThat(cli().run("proxy", "app", "wiki", "--node", "edge-1", "--port", "70000").err())
        .isEqualTo("airlock: --port 70000 (expected: 0..65535)\n");
    assertThat(cli().run("proxy", "app", "wiki").err())
        .contains("Missing required option: '--port=PORT'");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Result result =
          cli().run("proxy", "tcp", "edge-1:6443", "--port", String.valueOf(taken.getLocalPort()));
      assertThat(result.exit()).as("%s", result).isEqualTo(ExitStatus.USAGE);
      assertThat(result.err())
          .startsWith("airlock: cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": ")
          .endsWith(" (choose another --port or --bind)\n");
    }
    assertThat(sessionRequests()).isEmpty();
  }

  private static String exchange(int port, String sent) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout((int) WAIT.toMillis());
      socket.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
      byte[] answer = socket.getInputStream().readNBytes(sent.length());
      return new String(answer, StandardCharsets.US_ASCII);
    }
  }

  @Test
  void proxyTcpGivesEveryConnectionATunnelOfItsOwnAndOutlivesAFailedOne() throws Exception {
    CliRunner.Running proxy = cli().start("proxy", "tcp", "edge-1:6443", "--port", "0");
    Matcher listening = proxy.awaitOut(FORWARDING, WAIT);
    int port = Integer.parseInt(listening.group(2));
    assertThat(listening.group(1)).isNull();
    assertThat(listening.group(3)).isEqualTo("port 6443 on node edge-1");

    // Two connections at once, each with its own session.
    try (Socket first = new Socket(InetAddress.getLoopbackAddress(), port)) {
      first.setSoTimeout((int) WAIT.toMillis());
      first.getOutputStream().write("one".getBytes(StandardCharsets.US_ASCII));
      assertThat(exchange(port, "two")).isEqualTo("TWO");
      assertThat(new String(first.getInputStream().readNBytes(3), StandardCharsets.US_ASCII))
          .isEqualTo("ONE");
    }
    assertThat(sessionRequests())
        .hasSize(2)
        .allSatisfy(
            request -> {
              assertThat(request.get("tunnelTarget").asString()).isEqualTo("tcp:6443");
              assertThat(request.has("login")).isFalse();
            });

    // A tunnel that fails closes its connection, says why, and the listener goes on.
    node.mode(Mode.UNREACHABLE);
    try (Socket refused = new Socket(InetAddress.getLoopbackAddress(), port)) {
      refused.setSoTimeout((int) WAIT.toMillis());
      assertThat(refused.getInputStream().read()).isEqualTo(-1);
    }
    proxy.awaitErr("cannot reach tcp:6443", WAIT);
    node.mode(Mode.SHOUT);
    assertThat(exchange(port, "three")).isEqualTo("THREE");

    Result result = proxy.stop(WAIT);
    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out().lines()).hasSize(1);
    assertThat(result.err())
        .matches(
            "airlock: connection from 127\\.0\\.0\\.1:\\d+ closed: node edge-1 cannot reach"
                + " tcp:6443: connection refused \\(close 4502\\)\\n")
        .doesNotContain(API_KEY);
  }

  @Test
  void ctrlCOnTheProxyClosesItsOpenTunnelsCleanlyBeforeItExits() throws Exception {
    Process proxy =
        CliRunner.process(
            Map.of("AIRLOCK_URL", platform.baseUrl(), "AIRLOCK_API_KEY", API_KEY),
            config,
            "proxy",
            "tcp",
            "edge-1:6443",
            "--port",
            "0");
    try (BufferedReader out = proxy.inputReader(StandardCharsets.UTF_8)) {
      Matcher listening = FORWARDING.matcher(out.readLine() + "\n");
      assertThat(listening.matches()).isTrue();
      int port = Integer.parseInt(listening.group(2));
      try (Socket open = new Socket(InetAddress.getLoopbackAddress(), port)) {
        open.setSoTimeout((int) WAIT.toMillis());
        open.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
        assertThat(new String(open.getInputStream().readNBytes(10), StandardCharsets.US_ASCII))
            .isEqualTo("STILL HERE");

        new ProcessBuilder("kill", "-INT", String.valueOf(proxy.pid())).start().waitFor();
        assertThat(proxy.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        // What the process did not send before it exited it never will: the node was told the
        // client ended the session, rather than finding its socket dropped.
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (node.sessionCloses.isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(node.sessionCloses)
            .singleElement()
            .satisfies(close -> assertThat(close.getReason()).isEqualTo("closed by the client"));
        assertThat(open.getInputStream().read()).isEqualTo(-1);
      }
    } finally {
      proxy.destroyForcibly();
    }
  }

  @Test
  void proxyAppForwardsPlainHttpToTheAppOnTheNodeNamed() throws Exception {
    CliRunner.Running proxy =
        cli().start("proxy", "app", "wiki", "--node", "edge-2", "--port", "0");
    Matcher listening = proxy.awaitOut(FORWARDING, WAIT);
    int port = Integer.parseInt(listening.group(2));

    assertThat(listening.group(1)).isEqualTo("http://");
    assertThat(listening.group(3)).isEqualTo("app wiki on node edge-2");
    assertThat(exchange(port, "get /")).isEqualTo("GET /");
    assertThat(sessionRequests().get(0).get("target").asString()).isEqualTo("edge-2");
    assertThat(sessionRequests().get(0).get("tunnelTarget").asString()).isEqualTo("app:wiki");
    Result result = proxy.stop(WAIT);
    assertThat(result.exit()).isZero();
    assertThat(result.err())
        .isEqualTo("note: node edge-2 is offline now: connections fail until it is back\n");
  }

  // --- ssh --------------------------------------------------------------------------------------

  /**
   * An executable standing in for OpenSSH's ssh: it records its arguments and the AIRLOCK_
   * variables it got, and with AIRLOCK_FAKE_SSH_RUN runs its ProxyCommand as ssh would (with %r, %h
   * and %p expanded), says "ping" through it and records the answer; it exits with 42.
   */
  private Path fakeSsh() throws IOException {
    Path script = work.resolve("fake-ssh");
    Files.writeString(
        script,
        """
        #!/usr/bin/env bash
        set -u
        dir="$AIRLOCK_FAKE_SSH_DIR"
        printf '%s\\n' "$@" > "$dir/args"
        env | grep '^AIRLOCK_' | sort > "$dir/env"
        command=""
        previous=""
        for argument in "$@"; do
          if [[ $previous == -o && $argument == ProxyCommand=* ]]; then
            command="${argument#ProxyCommand=}"
          fi
          previous="$argument"
        done
        if [[ -n ${AIRLOCK_FAKE_SSH_RUN:-} ]]; then
          command="$(printf '%s' "$command" | sed -e 's/%r/deploy/g' -e 's/%h/edge-1/g' -e 's/%p/22/g')"
          mkfifo "$dir/in"
          sh -c "exec $command" < "$dir/in" > "$dir/out" 2> "$dir/err" &
          proxy=$!
          exec 3> "$dir/in"
          printf ping >&3
          wait "$proxy"
          echo "$?" > "$dir/status"
          exec 3>&-
        fi
        exit 42
        """);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  @Test
  void sshRunsOpenSshThroughTheProxyWithTheNodesNameAsHostKeyAliasAndExitsWithItsStatus()
      throws IOException {
    Result result =
        cli()
            .env("AIRLOCK_SSH", fakeSsh().toString())
            .env("AIRLOCK_FAKE_SSH_DIR", work.toString())
            .run(
                "ssh",
                "-i",
                "id_edge",
                "-p",
                "2222",
                "-tt",
                "-L8080:localhost:80",
                "-o",
                "ServerAliveInterval=30",
                "deploy@edge-1",
                "uptime",
                "-p");

    assertThat(result.exit()).as("%s", result).isEqualTo(42);
    List<String> args = Files.readAllLines(work.resolve("args"));
    assertThat(args.subList(0, 9))
        .containsExactly(
            "-i",
            "id_edge",
            "-t",
            "-t",
            "-L",
            "8080:localhost:80",
            "-o",
            "ServerAliveInterval=30",
            "-o");
    assertThat(args.get(9))
        .startsWith("ProxyCommand=" + Path.of(System.getProperty("java.home"), "bin", "java"))
        .contains(" -cp ", " dev.airlock.cli.AirlockCli ")
        .endsWith(" proxy ssh %r@%h:%p");
    assertThat(args.subList(10, args.size()))
        .containsExactly("-o", "HostKeyAlias=edge-1", "deploy@edge-1", "uptime", "-p");
    assertThat(Files.readAllLines(work.resolve("env")))
        .contains("AIRLOCK_URL=" + platform.baseUrl(), "AIRLOCK_CONFIG_DIR=" + config);
  }

  @Test
  void sshWithLoginOptionAndAnSshUriKeysTheHostByTheNodeNameOnly() throws IOException {
    CliRunner fake =
        cli()
            .env("AIRLOCK_SSH", fakeSsh().toString())
            .env("AIRLOCK_FAKE_SSH_DIR", work.toString())
            .env("AIRLOCK_CLI", "/opt/airlock/bin/airlock");

    assertThat(fake.run("ssh", "-l", "deploy", "--", "edge-1").exit()).isEqualTo(42);
    assertThat(Files.readAllLines(work.resolve("args")))
        .containsExactly(
            "-l",
            "deploy",
            "-o",
            "ProxyCommand=/opt/airlock/bin/airlock proxy ssh %r@%h:%p",
            "-o",
            "HostKeyAlias=edge-1",
            "edge-1");

    assertThat(fake.run("ssh", "--debug", "ssh://deploy@edge-1:2222").exit()).isEqualTo(42);
    assertThat(Files.readAllLines(work.resolve("args")))
        .containsExactly(
            "-o",
            "ProxyCommand=/opt/airlock/bin/airlock --debug proxy ssh %r@%h:%p",
            "-o",
            "HostKeyAlias=edge-1",
            "deploy@edge-1");
  }

  @Test
  void sshToATrustedClusterPassesTheClusterToTheProxyAndKeysTheHostUnderIt() throws IOException {
    CliRunner fake =
        cli()
            .env("AIRLOCK_SSH", fakeSsh().toString())
            .env("AIRLOCK_FAKE_SSH_DIR", work.toString())
            .env("AIRLOCK_CLI", "/opt/airlock/bin/airlock");
    List<String> expected =
        List.of(
            "-o",
            "ProxyCommand=/opt/airlock/bin/airlock proxy ssh --cluster leaf %r@%h:%p",
            "-o",
            "HostKeyAlias=leaf/web-1",
            "deploy@web-1",
            "uptime",
            "--cluster",
            "x");

    // As the issue writes it (right after the destination), and before it.
    assertThat(fake.run("ssh", "deploy@web-1", "--cluster", "leaf", "uptime", "--cluster", "x"))
        .extracting(Result::exit)
        .isEqualTo(42);
    assertThat(Files.readAllLines(work.resolve("args"))).isEqualTo(expected);
    assertThat(fake.run("ssh", "--cluster=leaf", "deploy@web-1", "uptime", "--cluster", "x"))
        .extracting(Result::exit)
        .isEqualTo(42);
    assertThat(Files.readAllLines(work.resolve("args"))).isEqualTo(expected);

    assertOneErrorLine(
        fake.run("ssh", "--cluster", "a", "deploy@web-1", "--cluster", "b"),
        ExitStatus.USAGE,
        "airlock: --cluster a and --cluster b (expected: one trusted cluster)");
  }

  @Test
  void sshRefusesWhatWouldBypassTheTunnel() {
    assertOneErrorLine(
        cli().run("ssh", "-J", "jump", "deploy@edge-1"),
        ExitStatus.USAGE,
        "airlock: -J: airlock ssh reaches the node through its tunnel (expected: no jump host)");
    assertOneErrorLine(
        cli().run("ssh", "-oProxyCommand=nc %h %p", "deploy@edge-1"),
        ExitStatus.USAGE,
        "airlock: -o ProxyCommand=nc %h %p: airlock ssh sets ProxyCommand itself (expected: no"
            + " ProxyCommand or ProxyJump)");
    assertOneErrorLine(
        cli().run("ssh", "-l"), ExitStatus.USAGE, "airlock: ssh option -l needs a value");
    assertOneErrorLine(
        cli().run("ssh", "-v"),
        ExitStatus.USAGE,
        "airlock: no destination (expected: [LOGIN@]NODE, e.g. deploy@edge-1)");
    assertOneErrorLine(
        cli().run("ssh", "-Z", "edge-1"),
        ExitStatus.USAGE,
        "airlock: unknown ssh option -Z (expected: an option of OpenSSH's ssh, before the"
            + " destination)");
  }

  @Test
  void sshWithoutCredentialsFailsBeforeRunningSsh() throws IOException {
    Result result =
        CliRunner.withConfigDir(config)
            .env("AIRLOCK_SSH", fakeSsh().toString())
            .env("AIRLOCK_FAKE_SSH_DIR", work.toString())
            .run("ssh", "deploy@edge-1");

    assertThat(result.exit()).isEqualTo(ExitStatus.CREDENTIALS);
    assertThat(Files.exists(work.resolve("args"))).isFalse();
  }

  @Test
  void theProxyThatSshRunsIsThisCliWithTheseCredentials() throws IOException {
    node.mode(Mode.SHOUT_ONCE);

    Result result =
        cli()
            .env("AIRLOCK_SSH", fakeSsh().toString())
            .env("AIRLOCK_FAKE_SSH_DIR", work.toString())
            .env("AIRLOCK_FAKE_SSH_RUN", "yes")
            .run("ssh", "deploy@edge-1");

    assertThat(result.exit()).as("%s", result).isEqualTo(42);
    assertThat(Files.readString(work.resolve("err"))).isEmpty();
    assertThat(Files.readString(work.resolve("out"))).isEqualTo("PING");
    assertThat(Files.readString(work.resolve("status")).strip()).isEqualTo("0");
    JsonNode request = sessionRequests().get(0);
    assertThat(request.get("login").asString()).isEqualTo("deploy");
    assertThat(request.get("target").asString()).isEqualTo("edge-1");
    assertThat(platform.received("POST", "/api/v1/sessions").get(0).header("Authorization"))
        .isEqualTo("Bearer " + API_KEY);
  }

  // --- login --proxy ----------------------------------------------------------------------------

  @Test
  void loginTakesTheProxyOptionAsTheUrl() throws IOException {
    platform.on(
        "POST",
        "/api/v1/auth/login",
        request ->
            Reply.json(
                200,
                """
                {"accessToken":"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln",
                 "refreshToken":"alr_refresh","tokenType":"Bearer","expiresIn":900,
                 "refreshExpiresIn":86400,"passwordChangeRequired":false}"""));

    Result result =
        CliRunner.withConfigDir(config)
            .runWithInput(
                "password\n",
                "login",
                "--proxy",
                platform.baseUrl(),
                "-u",
                "alice",
                "--password-stdin");

    assertThat(result.exit()).as("%s", result).isZero();
    assertThat(result.out()).isEqualTo("Logged in to " + platform.baseUrl() + " as alice.\n");
    assertThat(Files.readString(config.resolve("credentials.json")))
        .containsPattern("\"url\"\\s*:\\s*\"" + Pattern.quote(platform.baseUrl()) + "\"");
  }
}
