package dev.airlock.contract.tunnel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.contract.harness.AuditTrail;
import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.Pki;
import dev.airlock.contract.harness.TestNetwork;
import dev.airlock.contract.harness.ValidatingProxy;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.AuditOutcome;
import dev.airlock.sdk.model.PasswordChange;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.RoleCreate;
import dev.airlock.sdk.model.Rule;
import dev.airlock.sdk.model.Verb;
import dev.airlock.sdk.tunnel.TunnelException;
import dev.airlock.sdk.tunnel.TunnelStream;
import dev.airlock.testkit.ManagedProcess;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Trusted clusters end to end, all real: a <em>root</em> cluster (platform on MariaDB, signal node
 * with a TLS tunnel endpoint) in this namespace, and a complete <em>leaf</em> cluster in the edge
 * namespace ({@code alk-edge}): its own platform on its own embedded database, its own signal node,
 * a node running a real OpenSSH server, and the cluster link, an agent enrolled in the root with a
 * join token of kind {@code cluster}. Every leaf service listens on the leaf's loopback; the leaf
 * dials the root, never the other way. Root users go through the root with the CLI and the system's
 * OpenSSH; the leaf maps their root roles to its own, decides, and keeps the audit.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrustedClusterContractTest {

  private static final Duration CALL = Duration.ofSeconds(30);
  private static final Duration START = Duration.ofSeconds(120);
  private static final String LEAF_NS = "alk-edge";
  private static final String LEAF_ADDRESS = "10.232.0.13";
  private static final String LEAF = "leaf";
  private static final String NODE = "leaf-web";
  private static final int SSH_PORT = 2223;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Path work;
  private TestDatabase database;
  private ValidatingProxy proxy;
  private AirlockClient rootAdmin;
  private AuditTrail rootAudit;
  private AirlockClient leafAdmin;
  private AuditTrail leafAudit;
  private int leafPlatformPort;
  private String aliceKey;
  private AirlockClient alice;
  private String carolKey;
  private Path userKey;
  private Path knownHosts;
  private EdgeKit.Sshd sshd;
  private ManagedProcess link;

  @BeforeAll
  void startBothClusters() throws Exception {
    TestNetwork.require();
    work =
        Path.of(System.getProperty("airlock.contract.work.dir", "target/contract"))
            .toAbsolutePath()
            .resolve("trust-" + System.currentTimeMillis());
    Files.createDirectories(work);
    Pki pki = Pki.create(EdgeKit.repo(), work.resolve("pki"));
    pki.server("root-tunnel", TestNetwork.ISOLATED_HUB);
    int rootSignalPort = startRoot(pki);
    startLeaf();
    startLeafNode();

    // The trust: the root's admin makes a cluster join token; the leaf's link enrols with it.
    String clusterToken =
        EdgeKit.joinToken(rootAdmin, AgentKind.CLUSTER, Map.of("cluster", LEAF), "trust leaf");
    // The leaf's platform made its link's account and key at start (airlock.trust.root is set).
    Path linkKey = work.resolve("leaf-data").resolve("cluster-link-key");
    link =
        EdgeKit.agent(
            "link",
            LEAF_NS,
            work.resolve("link-state"),
            List.of(
                "signal-url = ws://" + TestNetwork.ISOLATED_HUB + ":" + rootSignalPort,
                "hostname = " + LEAF,
                "join-token = " + clusterToken,
                "ca-file = " + pki.ca(),
                "display = none",
                "leaf-url = http://127.0.0.1:" + leafPlatformPort,
                "leaf-api-key-file = " + linkKey),
            work.resolve("link.log"),
            toClose);
    link.awaitLine("Tunnel up at https://", 0, Duration.ofSeconds(60));
  }

  /** The root cluster, in this namespace; returns its signal node's port. */
  private int startRoot(Pki pki) throws Exception {
    database = TestDatabase.fresh("airlock_tc_");
    database.requireReachable();
    Path dataDir = work.resolve("root-data");
    Files.createDirectories(dataDir);
    PlatformProcess platform =
        PlatformProcess.start(
            ContractPlatform.platformJar(),
            PlatformProcess.freePort(),
            database,
            dataDir,
            work.resolve("root-platform.log"),
            List.of("--airlock.trust.cluster-name=root"));
    toClose.add(platform);
    platform.awaitHealthy(START);
    proxy = ValidatingProxy.start(EdgeKit.specPath(), platform.baseUrl());
    toClose.add(proxy);
    rootAdmin =
        ContractPlatform.firstAdministrator(platform, proxy.baseUrl(), "root admin password");
    rootAudit = new AuditTrail(() -> rootAdmin);
    platform.dataFile(PlatformProcess.SIGNAL_NODE_KEY_FILE, Duration.ofSeconds(30));
    int signalPort = PlatformProcess.freePort();
    int tunnelPort = PlatformProcess.freePort();
    ManagedProcess signal =
        ManagedProcess.start(
            "root-signal",
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                signalJar(),
                "--server.port=" + signalPort,
                "--airlock.signal.node-id=root-node",
                "--airlock.signal.public-url=ws://" + TestNetwork.ISOLATED_HUB + ":" + signalPort,
                "--airlock.signal.admin-url=http://127.0.0.1:" + signalPort,
                "--airlock.signal.platform-url=" + platform.baseUrl(),
                "--airlock.signal.platform-key-file="
                    + dataDir.resolve(PlatformProcess.SIGNAL_NODE_KEY_FILE),
                "--airlock.signal.tunnel.port=" + tunnelPort,
                "--airlock.signal.tunnel.public-url=https://"
                    + TestNetwork.ISOLATED_HUB
                    + ":"
                    + tunnelPort,
                "--airlock.signal.tunnel.tls-cert-file=" + pki.cert("root-tunnel"),
                "--airlock.signal.tunnel.tls-key-file=" + pki.key("root-tunnel")),
            work.resolve("root-signal.log"));
    toClose.add(signal);
    signal.awaitLine("Airlock signal node root-node listening", 0, START);

    // Root roles: 'dev' may use the leaf cluster (the leaf maps it); 'guest' may route there too,
    // but the leaf maps it to nothing.
    for (String role : List.of("dev", "guest")) {
      rootAdmin
          .roles()
          .createRole(
              new RoleCreate()
                  .name(role)
                  .rules(
                      List.of(
                          new Rule()
                              .effect(Rule.EffectEnum.ALLOW)
                              .resources(List.of(ResourceKind.AGENT))
                              .verbs(List.of(Verb.LIST, Verb.READ, Verb.CONNECT))
                              .labels(Map.of("cluster", LEAF)),
                          EdgeKit.ownApiKeys())))
          .block(CALL);
    }
    alice = EdgeKit.user(rootAdmin, proxy.baseUrl(), "alice", "dev");
    aliceKey = EdgeKit.apiKey(alice, "dev");
    AirlockClient carol = EdgeKit.user(rootAdmin, proxy.baseUrl(), "carol", "guest");
    carolKey = EdgeKit.apiKey(carol, "guest");
    return signalPort;
  }

  /**
   * The leaf cluster, in the edge namespace on its loopback: platform (embedded database), signal
   * node, and the test's console into it ({@link LeafDoor}).
   */
  private void startLeaf() throws Exception {
    Path dataDir = work.resolve("leaf-data");
    Files.createDirectories(dataDir);
    leafPlatformPort = PlatformProcess.freePort();
    ManagedProcess platform =
        ManagedProcess.start(
            "leaf-platform",
            LEAF_NS,
            List.of(
                ManagedProcess.java(),
                "-jar",
                ContractPlatform.platformJar().toString(),
                "--server.port=" + leafPlatformPort,
                "--server.address=127.0.0.1",
                "--airlock.data-dir=" + dataDir,
                "--airlock.trust.cluster-name=" + LEAF,
                "--airlock.trust.root=root",
                "--airlock.trust.role-map.dev=leaf-ops"),
            work.resolve("leaf-platform.log"));
    toClose.add(platform);
    ManagedProcess door =
        ManagedProcess.start(
            "leaf-door",
            LEAF_NS,
            List.of(
                ManagedProcess.java(),
                "-cp",
                System.getProperty("java.class.path"),
                LeafDoor.class.getName(),
                LEAF_ADDRESS,
                String.valueOf(leafPlatformPort)),
            work.resolve("leaf-door.log"));
    toClose.add(door);
    Matcher opened = door.awaitLine("door open on port (\\d+)", 0, Duration.ofSeconds(30));
    String leafUrl = "http://" + LEAF_ADDRESS + ":" + opened.group(1);

    Path passwordFile = dataDir.resolve(PlatformProcess.INITIAL_ADMIN_PASSWORD_FILE);
    Instant deadline = Instant.now().plus(START);
    while (!Files.isRegularFile(passwordFile) || Files.size(passwordFile) == 0) {
      if (Instant.now().isAfter(deadline) || !platform.isAlive()) {
        throw new AssertionError("the leaf platform did not start:\n" + platform.outputTail());
      }
      Thread.sleep(250);
    }
    String oneTime = Files.readString(passwordFile).strip();
    leafAdmin = AirlockClient.builder().baseUrl(leafUrl).build();
    while (true) {
      try {
        leafAdmin.login("admin", oneTime).block(CALL);
        break;
      } catch (RuntimeException notYet) {
        if (Instant.now().isAfter(deadline)) {
          throw new AssertionError(
              "cannot log in to the leaf platform:\n" + platform.outputTail(), notYet);
        }
        Thread.sleep(500);
      }
    }
    leafAdmin
        .auth()
        .changePassword(
            new PasswordChange().currentPassword(oneTime).newPassword("leaf admin password"))
        .block(CALL);
    leafAdmin.login("admin", "leaf admin password").block(CALL);
    leafAudit = new AuditTrail(() -> leafAdmin);

    Path keyFile = dataDir.resolve(PlatformProcess.SIGNAL_NODE_KEY_FILE);
    deadline = Instant.now().plusSeconds(30);
    while (!Files.isRegularFile(keyFile)
        || !Files.isRegularFile(dataDir.resolve("cluster-link-key"))) {
      if (Instant.now().isAfter(deadline)) {
        throw new AssertionError("the leaf platform wrote no signal node or cluster link key");
      }
      Thread.sleep(200);
    }
    int signalPort = PlatformProcess.freePort();
    ManagedProcess signal =
        ManagedProcess.start(
            "leaf-signal",
            LEAF_NS,
            List.of(
                ManagedProcess.java(),
                "-jar",
                signalJar(),
                "--server.port=" + signalPort,
                "--server.address=127.0.0.1",
                "--airlock.signal.node-id=leaf-node",
                "--airlock.signal.public-url=ws://127.0.0.1:" + signalPort,
                "--airlock.signal.admin-url=http://127.0.0.1:" + signalPort,
                "--airlock.signal.platform-url=http://127.0.0.1:" + leafPlatformPort,
                "--airlock.signal.platform-key-file=" + keyFile,
                "--airlock.signal.tunnel.host=127.0.0.1",
                "--airlock.signal.tunnel.port=" + PlatformProcess.freePort()),
            work.resolve("leaf-signal.log"));
    toClose.add(signal);
    signal.awaitLine("Airlock signal node leaf-node listening", 0, START);
    leafSignalPort = signalPort;

    // The leaf's own rules: root 'dev' maps to 'leaf-ops', which reaches site=leaf as root only.
    leafAdmin
        .roles()
        .createRole(
            new RoleCreate()
                .name("leaf-ops")
                .rules(
                    List.of(
                        new Rule()
                            .effect(Rule.EffectEnum.ALLOW)
                            .resources(List.of(ResourceKind.AGENT))
                            .verbs(List.of(Verb.LIST, Verb.READ, Verb.CONNECT))
                            .labels(Map.of("site", LEAF))
                            .logins(List.of("root")))))
        .block(CALL);
  }

  private int leafSignalPort;

  /** A node of the leaf: a real sshd on the leaf's loopback and its agent. */
  private void startLeafNode() throws Exception {
    sshd = EdgeKit.sshd(work.resolve("ssh"), LEAF_NS, SSH_PORT, toClose);
    userKey = sshd.userKey();
    knownHosts = sshd.knownHosts();

    String joinToken =
        EdgeKit.joinToken(leafAdmin, AgentKind.NODE, Map.of("site", LEAF), "leaf node");
    ManagedProcess node =
        EdgeKit.agent(
            NODE,
            LEAF_NS,
            work.resolve("leaf-node-state"),
            List.of(
                "signal-url = ws://127.0.0.1:" + leafSignalPort,
                "hostname = " + NODE,
                "join-token = " + joinToken,
                "display = none",
                "ssh = " + SSH_PORT),
            work.resolve("leaf-node.log"),
            toClose);
    node.awaitLine("Tunnel up at http://", 0, Duration.ofSeconds(60));
  }

  @AfterAll
  void stopEverything() throws Exception {
    EdgeKit.closeAll(toClose);
    if (database != null) {
      database.drop();
    }
    if (proxy != null) {
      assertThat(proxy.drainViolations())
          .as("every response of the root matched openapi/airlock.yaml")
          .isEmpty();
    }
  }

  @Test
  @Order(1)
  void theLeafIsAnOnlineClusterOfTheRootAndItsNodesAreListedOnlyThroughIt() throws Exception {
    List<Agent> clusters =
        rootAdmin
            .agents()
            .listAgents(AgentKind.CLUSTER, null, null, null, null)
            .block(CALL)
            .getItems();
    assertThat(clusters).extracting(Agent::getName).containsExactly(LEAF);
    assertThat(clusters.get(0).getOnline()).isTrue();
    assertThat(
            rootAdmin
                .agents()
                .listAgents(AgentKind.NODE, null, null, null, null)
                .block(CALL)
                .getItems())
        .as("the root has no node of its own")
        .isEmpty();

    EdgeKit.CliRun clusterList = cli(aliceKey, "clusters", "ls");
    assertThat(clusterList.exit()).as("stderr: %s", clusterList.err()).isZero();
    assertThat(clusterList.out().lines())
        .anySatisfy(line -> assertThat(line).startsWith(LEAF + " ").contains(" yes "));

    EdgeKit.CliRun listed = cli(aliceKey, "nodes", "ls", "--cluster", LEAF);
    assertThat(listed.exit()).as("stderr: %s", listed.err()).isZero();
    assertThat(listed.out()).contains(NODE).contains("ssh").contains("site=" + LEAF);

    // The leaf's services are on its own loopback: nothing in the root's namespace reaches them.
    for (int port : List.of(SSH_PORT, leafPlatformPort)) {
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(LEAF_ADDRESS, port), 2_000);
        throw new AssertionError("port " + port + " of the leaf is reachable from the root");
      } catch (IOException expected) {
        // refused or unreachable, as it must be
      }
    }
  }

  @Test
  @Order(2)
  void airlockSshReachesALeafNodeThroughTheRootAndTheLeafKeepsTheAudit() throws Exception {
    long rootBefore = rootAudit.newestSeq("session.create", null);
    long leafBefore = leafAudit.newestSeq("session.end", null);
    EdgeKit.CliRun run =
        cli(
            aliceKey,
            sshd.sshArgs(
                "root@" + NODE,
                "--cluster",
                LEAF,
                "echo",
                "hello from $(hostname -I 2>/dev/null || echo the leaf)"));
    assertThat(run.exit()).as("ssh's exit status; stderr: %s", run.err()).isZero();
    assertThat(run.out()).contains("hello from").contains(LEAF_ADDRESS);
    // known_hosts may be hashed (Debian's default): ask ssh-keygen for the name.
    EdgeKit.run(List.of("ssh-keygen", "-F", LEAF + "/" + NODE, "-f", knownHosts.toString()));

    // The leaf audits what happened on its node, as the root's user.
    AuditEvent ended =
        leafAudit.awaitEvent(
            "session.end",
            null,
            leafBefore,
            event -> event.getActor().equals("root/alice") && event.getReason() != null);
    assertThat(ended.getReason())
        .containsPattern("bytes from client [1-9][0-9]*, from agent [1-9][0-9]*");
    // The root records that it routed the connection, and where to.
    AuditEvent routed =
        rootAudit.awaitEvent(
            "session.create", null, rootBefore, event -> event.getActor().equals("alice"));
    assertThat(routed.getReason())
        .contains("routed to trusted cluster " + LEAF)
        .contains("node " + NODE)
        .contains("login root");
  }

  @Test
  @Order(3)
  void theLeafDecidesWithItsOwnRoleMappingAndAuditsRefusals() throws Exception {
    long before = leafAudit.newestSeq("agent.connect", AuditOutcome.DENIED);
    // carol's root role lets her route to the leaf, but the leaf maps it to nothing.
    EdgeKit.CliRun refused =
        cli(carolKey, "proxy", "ssh", "--cluster", LEAF, "root@" + NODE + ":22");
    assertThat(refused.exit()).isNotZero();
    assertThat(refused.out()).as("nothing reaches ssh's side of the pipe").isEmpty();
    assertThat(refused.err()).contains("leaf cluster refused (403)");
    leafAudit.awaitEvent(
        "agent.connect",
        AuditOutcome.DENIED,
        before,
        event -> event.getActor().equals("root/carol"));

    EdgeKit.CliRun listed = cli(carolKey, "nodes", "ls", "--cluster", LEAF);
    assertThat(listed.exit()).as("carol may not list the leaf's nodes").isNotZero();
    assertThat(listed.out()).doesNotContain(NODE);
    assertThat(listed.err()).contains("leaf cluster refused (403)");

    // alice's mapped role allows root only.
    long beforeLogin = leafAudit.newestSeq("agent.connect", AuditOutcome.DENIED);
    try {
      alice.tunnelInCluster(LEAF, NODE, "ssh", "postgres", CALL).block(CALL);
      throw new AssertionError("the leaf let alice in as postgres");
    } catch (TunnelException refusedLogin) {
      assertThat(refusedLogin.targetUnreachable()).isTrue();
      assertThat(refusedLogin.getMessage()).contains("postgres");
    }
    AuditEvent login =
        leafAudit.awaitEvent(
            "agent.connect",
            AuditOutcome.DENIED,
            beforeLogin,
            event -> event.getActor().equals("root/alice"));
    assertThat(login.getReason()).contains("postgres");
  }

  @Test
  @Order(4)
  void removingTheTrustCutsALiveConnectionWithinSeconds() throws Exception {
    TunnelStream stream = alice.tunnelInCluster(LEAF, NODE, "ssh", "root", CALL).block(CALL);
    StringBuffer seen = new StringBuffer();
    // Read, and keep reading: cancelling would close the stream from this side.
    var reading =
        stream.receive().subscribe(bytes -> seen.append(StandardCharsets.UTF_8.decode(bytes)));
    toClose.add(reading::dispose);
    Instant deadline = Instant.now().plusSeconds(15);
    while (!seen.toString().startsWith("SSH-2.0") && Instant.now().isBefore(deadline)) {
      Thread.sleep(50);
    }
    assertThat(seen.toString()).as("the leaf node's sshd answered").startsWith("SSH-2.0");
    assertThat(stream.isOpen()).isTrue();

    Agent cluster =
        rootAdmin
            .agents()
            .listAgents(AgentKind.CLUSTER, null, null, null, null)
            .block(CALL)
            .getItems()
            .get(0);
    Instant revoked = Instant.now();
    rootAdmin.agents().revokeAgent(cluster.getId()).block(CALL);

    TunnelStream.Ending ending = stream.closed().block(Duration.ofSeconds(10));
    Duration took = Duration.between(revoked, Instant.now());
    assertThat(ending).as("the stream ended").isNotNull();
    assertThat(ending.reason()).as("how it ended: %s", ending).contains("revoked");
    assertThat(took).as("time from revocation to the cut").isLessThan(Duration.ofSeconds(10));
    assertThat(link.awaitExit(Duration.ofSeconds(30)))
        .as("the link stops: it must be trusted again with a new token")
        .isNotZero();

    EdgeKit.CliRun after = cli(aliceKey, "nodes", "ls", "--cluster", LEAF);
    assertThat(after.exit()).isNotZero();
  }

  // --- users, the CLI ----------------------------------------------------------------------

  private EdgeKit.CliRun cli(String apiKey, String... args)
      throws IOException, InterruptedException {
    return new EdgeKit.Cli(proxy.baseUrl(), work).run(apiKey, args);
  }

  private static String signalJar() {
    return Path.of(System.getProperty("airlock.signal.jar")).toAbsolutePath().toString();
  }
}
