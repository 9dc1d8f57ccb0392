package dev.airlock.contract.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.contract.harness.AuditTrail;
import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.Pki;
import dev.airlock.contract.harness.TestNetwork;
import dev.airlock.contract.harness.ValidatingProxy;
import dev.airlock.protocol.CloseCodes;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.AuditOutcome;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.RoleCreate;
import dev.airlock.sdk.model.Rule;
import dev.airlock.sdk.model.TunnelTarget;
import dev.airlock.sdk.model.Verb;
import dev.airlock.sdk.tunnel.TunnelException;
import dev.airlock.sdk.tunnel.TunnelStream;
import dev.airlock.testkit.ManagedProcess;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Reverse tunnels end to end, all real: the platform jar on MariaDB, a signal node whose tunnel
 * endpoint speaks TLS, and an <em>edge site</em> in its own network namespace ({@code alk-edge})
 * running a real OpenSSH server, a web app and TCP services on its own loopback, with the node
 * agent. The edge reaches the cluster; nothing in the cluster reaches the edge's services except
 * through the tunnel. Users go through the CLI (with the system's OpenSSH) and the Java SDK.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TunnelContractTest {

  private static final Duration CALL = Duration.ofSeconds(30);
  private static final Duration START = Duration.ofSeconds(120);
  private static final String EDGE_NS = "alk-edge";
  private static final String EDGE_ADDRESS = "10.232.0.13";
  private static final String NODE = "edge-1";
  private static final int SSH_PORT = 2222;
  private static final int HTTP_PORT = 8088;
  private static final int ECHO_PORT = 7000;
  private static final int SOURCE_PORT = 7001;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Path work;
  private TestDatabase database;
  private PlatformProcess platform;
  private ValidatingProxy proxy;
  private AirlockClient admin;
  private AuditTrail audit;
  private CuttableProxy tunnelPath;
  private ManagedProcess agent;
  private AirlockClient alice;
  private String aliceKey;
  private AirlockClient bob;
  private String bobKey;
  private Path userKey;
  private Path knownHosts;
  private EdgeKit.Sshd sshd;

  @BeforeAll
  void startEverything() throws Exception {
    TestNetwork.require();
    work =
        Path.of(System.getProperty("airlock.contract.work.dir", "target/contract"))
            .toAbsolutePath()
            .resolve("tunnel-" + System.currentTimeMillis());
    Files.createDirectories(work);
    database = TestDatabase.fresh("airlock_tn_");
    database.requireReachable();
    int platformPort = PlatformProcess.freePort();
    Path dataDir = work.resolve("platform-data");
    Files.createDirectories(dataDir);
    platform =
        PlatformProcess.start(
            ContractPlatform.platformJar(),
            platformPort,
            database,
            dataDir,
            work.resolve("platform.log"),
            List.of());
    toClose.add(platform);
    platform.awaitHealthy(START);
    proxy = ValidatingProxy.start(EdgeKit.specPath(), platform.baseUrl());
    toClose.add(proxy);
    admin =
        ContractPlatform.firstAdministrator(
            platform, proxy.baseUrl(), "tunnel test admin password");
    audit = new AuditTrail(() -> admin);
    platform.dataFile(PlatformProcess.SIGNAL_NODE_KEY_FILE, Duration.ofSeconds(30));
    Path keyFile = dataDir.resolve(PlatformProcess.SIGNAL_NODE_KEY_FILE);

    // The signal node: its tunnel endpoint presents a certificate of the deployment's CA for the
    // address the edge dials, reached through a relay the test can cut.
    Pki pki = Pki.create(EdgeKit.repo(), work.resolve("pki"));
    pki.server("signal-tunnel", TestNetwork.ISOLATED_HUB);
    int signalPort = PlatformProcess.freePort();
    int tunnelPort = PlatformProcess.freePort();
    tunnelPath =
        new CuttableProxy(TestNetwork.ISOLATED_HUB, new InetSocketAddress("127.0.0.1", tunnelPort));
    toClose.add(tunnelPath);
    ManagedProcess signal =
        ManagedProcess.start(
            "signal",
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                Path.of(System.getProperty("airlock.signal.jar")).toAbsolutePath().toString(),
                "--server.port=" + signalPort,
                "--airlock.signal.node-id=tn-node",
                "--airlock.signal.public-url=ws://" + TestNetwork.ISOLATED_HUB + ":" + signalPort,
                "--airlock.signal.admin-url=http://127.0.0.1:" + signalPort,
                "--airlock.signal.platform-url=" + platform.baseUrl(),
                "--airlock.signal.platform-key-file=" + keyFile,
                "--airlock.signal.tunnel.port=" + tunnelPort,
                "--airlock.signal.tunnel.public-url=https://"
                    + TestNetwork.ISOLATED_HUB
                    + ":"
                    + tunnelPath.port(),
                "--airlock.signal.tunnel.tls-cert-file=" + pki.cert("signal-tunnel"),
                "--airlock.signal.tunnel.tls-key-file=" + pki.key("signal-tunnel")),
            work.resolve("signal.log"));
    toClose.add(signal);
    signal.awaitLine("Airlock signal node tn-node listening", 0, START);

    startEdgeServices();

    String joinToken =
        EdgeKit.joinToken(admin, AgentKind.NODE, Map.of("site", "edge"), "tunnel tests");
    agent =
        EdgeKit.agent(
            NODE,
            EDGE_NS,
            work.resolve("agent-state"),
            List.of(
                "signal-url = ws://" + TestNetwork.ISOLATED_HUB + ":" + signalPort,
                "hostname = " + NODE,
                "join-token = " + joinToken,
                "ca-file = " + pki.ca(),
                "display = none",
                "ssh = " + SSH_PORT,
                "apps = wiki=http://127.0.0.1:" + HTTP_PORT,
                "tcp = " + ECHO_PORT + "," + SOURCE_PORT),
            work.resolve("agent.log"),
            toClose);
    agent.awaitLine("Tunnel up at https://", 0, Duration.ofSeconds(60));

    // alice may reach edge nodes and log in there as root; bob may only list them.
    admin
        .roles()
        .createRole(
            new RoleCreate()
                .name("edge-ops")
                .rules(
                    List.of(
                        new Rule()
                            .effect(Rule.EffectEnum.ALLOW)
                            .resources(List.of(ResourceKind.AGENT))
                            .verbs(List.of(Verb.LIST, Verb.READ, Verb.CONNECT))
                            .labels(Map.of("site", "edge"))
                            .logins(List.of("root")),
                        EdgeKit.ownApiKeys())))
        .block(CALL);
    admin
        .roles()
        .createRole(
            new RoleCreate()
                .name("edge-watch")
                .rules(
                    List.of(
                        new Rule()
                            .effect(Rule.EffectEnum.ALLOW)
                            .resources(List.of(ResourceKind.AGENT))
                            .verbs(List.of(Verb.LIST, Verb.READ))
                            .labels(Map.of("site", "edge")),
                        EdgeKit.ownApiKeys())))
        .block(CALL);
    alice = user("alice", "edge-ops");
    aliceKey = EdgeKit.apiKey(alice, "edge-ops");
    bob = user("bob", "edge-watch");
    bobKey = EdgeKit.apiKey(bob, "edge-watch");
  }

  private void startEdgeServices() throws Exception {
    ManagedProcess services =
        ManagedProcess.start(
            "edge-services",
            EDGE_NS,
            List.of(
                ManagedProcess.java(),
                "-cp",
                System.getProperty("java.class.path"),
                EdgeServices.class.getName(),
                String.valueOf(HTTP_PORT),
                String.valueOf(ECHO_PORT),
                String.valueOf(SOURCE_PORT)),
            work.resolve("edge-services.log"));
    toClose.add(services);
    services.awaitLine("edge services up", 0, Duration.ofSeconds(30));

    // A real sshd, on the edge's loopback only, that lets in the test's key as root.
    sshd = EdgeKit.sshd(work.resolve("ssh"), EDGE_NS, SSH_PORT, toClose);
    userKey = sshd.userKey();
    knownHosts = sshd.knownHosts();
  }

  @AfterAll
  void stopEverything() throws Exception {
    EdgeKit.closeAll(toClose);
    if (database != null) {
      database.drop();
    }
    if (proxy != null) {
      assertThat(proxy.drainViolations())
          .as("every response matched openapi/airlock.yaml")
          .isEmpty();
    }
  }

  @Test
  @Order(1)
  void theNodeIsListedWithItsLabelsAndTargetsAndItsServicesAreNotReachableDirectly()
      throws Exception {
    List<Agent> nodes =
        alice.agents().listAgents(AgentKind.NODE, null, null, null, null).block(CALL).getItems();
    assertThat(nodes).hasSize(1);
    Agent node = nodes.get(0);
    assertThat(node.getName()).isEqualTo(NODE);
    assertThat(node.getOnline()).isTrue();
    assertThat(node.getLabels()).containsEntry("site", "edge");
    assertThat(node.getTargets())
        .extracting(TunnelTarget::getName)
        .containsExactly("ssh", "app:wiki", "tcp:" + ECHO_PORT, "tcp:" + SOURCE_PORT);

    // The node keeps one connection to the cluster, its tunnel, and signals on it: no WebSocket
    // beside it (the health request that named the tunnel was closed at once).
    List<String> connections = connectionsFromTheEdge();
    for (Instant until = Instant.now().plusSeconds(10);
        connections.size() != 1 && Instant.now().isBefore(until); ) {
      Thread.sleep(200);
      connections = connectionsFromTheEdge();
    }
    assertThat(connections)
        .as("the edge's TCP connections to the cluster")
        .containsExactly(TestNetwork.ISOLATED_HUB + ":" + tunnelPath.port());

    // The edge listens on its own loopback: from the cluster, its address has nothing open.
    for (int port : List.of(SSH_PORT, HTTP_PORT, ECHO_PORT)) {
      assertThatThrownBy(
              () -> {
                try (Socket socket = new Socket()) {
                  socket.connect(new InetSocketAddress(EDGE_ADDRESS, port), 2_000);
                }
              })
          .as("a direct connection to the edge's port %d", port)
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  @Order(2)
  void airlockSshRunsACommandAtTheEdgeThroughTheSystemsOpenSsh() throws Exception {
    long before = audit.newestSeq("session.end", null);
    EdgeKit.CliRun run =
        cli(
            aliceKey,
            sshd.sshArgs(
                "root@" + NODE, "echo", "hello from $(hostname -I 2>/dev/null || echo the edge)"));
    assertThat(run.exit()).as("ssh's exit status; stderr: %s", run.err()).isZero();
    assertThat(run.out()).contains("hello from").contains(EDGE_ADDRESS);

    AuditEvent ended =
        audit.awaitEvent(
            "session.end",
            null,
            before,
            event -> event.getActor().equals("alice") && event.getReason() != null);
    assertThat(ended.getReason())
        .contains("path relay")
        .containsPattern("bytes from client [1-9][0-9]*, from agent [1-9][0-9]*");
  }

  @Test
  @Order(3)
  void anHttpRequestThroughProxyAppIsServedByTheEdgesWebApp() throws Exception {
    int port = PlatformProcess.freePort();
    Process forwarding =
        cliInBackground(aliceKey, "proxy", "app", "wiki", "--port", String.valueOf(port));
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpResponse<String> response = null;
      Instant deadline = Instant.now().plusSeconds(30);
      while (response == null) {
        try {
          response =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/handbook"))
                      .timeout(Duration.ofSeconds(20))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
          if (Instant.now().isAfter(deadline)) {
            throw e;
          }
          Thread.sleep(300);
        }
      }
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("edge wiki: /handbook\n");
    } finally {
      forwarding.destroy();
      forwarding.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  @Order(4)
  void usersWithoutTheRoleOrTheLoginAreRefusedAndAudited() throws Exception {
    long before = audit.newestSeq("agent.connect", AuditOutcome.DENIED);
    EdgeKit.CliRun refused = cli(bobKey, "proxy", "ssh", "root@" + NODE + ":22");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.out()).as("nothing reaches ssh's side of the pipe").isEmpty();
    assertThat(refused.err()).containsIgnoringCase("forbidden");
    audit.awaitEvent(
        "agent.connect", AuditOutcome.DENIED, before, event -> event.getActor().equals("bob"));

    long beforeLogin = audit.newestSeq("agent.connect", AuditOutcome.DENIED);
    assertThatThrownBy(() -> alice.tunnel(NODE, "ssh", "postgres").block(CALL))
        .isInstanceOfSatisfying(
            AirlockProblemException.class, e -> assertThat(e.status()).isEqualTo(403));
    AuditEvent login =
        audit.awaitEvent(
            "agent.connect",
            AuditOutcome.DENIED,
            beforeLogin,
            event -> event.getActor().equals("alice"));
    assertThat(login.getReason()).contains("postgres");

    assertThatThrownBy(() -> alice.tunnel(NODE, "tcp:22", null).block(CALL))
        .as("a port the node does not declare")
        .isInstanceOfSatisfying(
            AirlockProblemException.class,
            e -> {
              assertThat(e.status()).isEqualTo(404);
              assertThat(e.problemType()).endsWith("tunnel-target-unknown");
            });
  }

  @Test
  @Order(5)
  void aStalledStreamDoesNotHoldAnother() throws Exception {
    // A reads nothing while the edge's source writes as fast as it can: its window fills.
    TunnelStream stalled = alice.tunnel(NODE, "tcp:" + SOURCE_PORT, null).block(CALL);
    AtomicLong stalledBytes = new AtomicLong();
    var slow =
        stalled
            .receive()
            .limitRate(1)
            .delayElements(Duration.ofMinutes(10))
            .subscribe(buffer -> stalledBytes.addAndGet(buffer.remaining()));
    Thread.sleep(2_000);
    try {
      // B, on the same tunnel, still echoes 4 MiB promptly.
      byte[] payload = new byte[4 * 1024 * 1024];
      new java.util.Random(7).nextBytes(payload);
      assertThat(echo(payload)).isEqualTo(payload);
      assertThat(stalled.isOpen()).isTrue();
    } finally {
      slow.dispose();
      stalled.close().block(CALL);
    }
  }

  @Test
  @Order(6)
  void aCutTunnelFailsItsStreamCleanlyAndTheNextConnectionWorks() throws Exception {
    TunnelStream stream = alice.tunnel(NODE, "tcp:" + ECHO_PORT, null).block(CALL);
    AtomicLong received = new AtomicLong();
    var receiving = stream.receive().doOnNext(b -> received.addAndGet(b.remaining())).then();
    var result = receiving.onErrorResume(e -> Mono.empty()).toFuture();
    stream
        .send(Flux.just(ByteBuffer.wrap("before the cut".getBytes(StandardCharsets.UTF_8))))
        .block(CALL);
    Instant deadline = Instant.now().plusSeconds(10);
    while (received.get() < "before the cut".length() && Instant.now().isBefore(deadline)) {
      Thread.sleep(50);
    }
    assertThat(received.get()).isEqualTo("before the cut".length());
    int connections = tunnelPath.accepted();

    tunnelPath.cut();

    TunnelStream.Ending ending = stream.closed().block(CALL);
    assertThat(ending.normal()).as("how it ended: %s", ending).isFalse();
    assertThat(ending.reason()).contains("tunnel");
    result.get(30, TimeUnit.SECONDS);

    // The node went offline with its connection (its signalling rode on it) and its agent dials
    // again. Until it is back a new stream is refused as a user sees it: "agent offline" from the
    // platform (409, try again later), or, while the platform has not yet heard of the departure,
    // "not connected to this node" from the signal node (4404). Then the next stream works.
    byte[] payload = "after the cut".getBytes(StandardCharsets.UTF_8);
    Instant back = Instant.now().plusSeconds(30);
    byte[] echoed = null;
    while (echoed == null) {
      try {
        echoed = echo(alice.tunnel(NODE, "tcp:" + ECHO_PORT, null).block(CALL), payload);
      } catch (AirlockProblemException offline) {
        assertThat(offline.status()).as("%s", offline).isEqualTo(409);
      } catch (TunnelException notHere) {
        assertThat(notHere.closeCode()).as("%s", notHere).isEqualTo(CloseCodes.AGENT_NOT_HERE);
      }
      assertThat(echoed != null || Instant.now().isBefore(back))
          .as("the node is back within 30 s")
          .isTrue();
      if (echoed == null) {
        Thread.sleep(200);
      }
    }
    assertThat(echoed).isEqualTo(payload);
    assertThat(tunnelPath.accepted()).isGreaterThan(connections);
  }

  /** The far ends of the edge namespace's established TCP connections to the cluster's side. */
  private static List<String> connectionsFromTheEdge() throws Exception {
    Process ss =
        new ProcessBuilder("ip", "netns", "exec", EDGE_NS, "ss", "-Htn", "state", "established")
            .redirectErrorStream(true)
            .start();
    String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(ss.waitFor()).as(out).isZero();
    return out.lines()
        .map(line -> line.trim().split("\\s+"))
        .filter(columns -> columns.length >= 4)
        // Java's sockets show as IPv4-mapped IPv6 addresses.
        .map(columns -> columns[3].replace("[::ffff:", "").replace("]", ""))
        .filter(peer -> peer.startsWith(TestNetwork.ISOLATED_HUB + ":"))
        .toList();
  }

  /** Sends {@code payload} through a new stream to the edge's echo service and reads it back. */
  private byte[] echo(byte[] payload) {
    return echo(alice.tunnel(NODE, "tcp:" + ECHO_PORT, null).block(CALL), payload);
  }

  /** Sends {@code payload} through {@code stream} and reads it back. */
  private static byte[] echo(TunnelStream stream, byte[] payload) {
    try {
      var back =
          stream
              .receive()
              .scan(
                  new byte[0],
                  (sofar, buffer) -> {
                    byte[] more = new byte[sofar.length + buffer.remaining()];
                    System.arraycopy(sofar, 0, more, 0, sofar.length);
                    buffer.get(more, sofar.length, buffer.remaining());
                    return more;
                  })
              .filter(sofar -> sofar.length >= payload.length)
              .next()
              .toFuture();
      List<ByteBuffer> chunks = new ArrayList<>();
      for (int i = 0; i < payload.length; i += 64 * 1024) {
        chunks.add(
            ByteBuffer.wrap(
                Arrays.copyOfRange(payload, i, Math.min(payload.length, i + 64 * 1024))));
      }
      stream.send(Flux.fromIterable(chunks)).block(CALL);
      return back.get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("echo through the tunnel failed", e);
    } finally {
      stream.close().block(CALL);
    }
  }

  // --- users, the CLI ----------------------------------------------------------------------

  private AirlockClient user(String name, String role) {
    return EdgeKit.user(admin, proxy.baseUrl(), name, role);
  }

  private EdgeKit.CliRun cli(String apiKey, String... args)
      throws IOException, InterruptedException {
    return new EdgeKit.Cli(proxy.baseUrl(), work).run(apiKey, args);
  }

  private Process cliInBackground(String apiKey, String... args) throws IOException {
    ProcessBuilder builder = new EdgeKit.Cli(proxy.baseUrl(), work).process(apiKey, args);
    Path log = work.resolve("cli-bg-" + System.nanoTime() + ".log");
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    Process process = builder.start();
    toClose.add(process::destroyForcibly);
    return process;
  }
}
