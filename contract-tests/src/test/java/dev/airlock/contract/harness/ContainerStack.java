package dev.airlock.contract.harness;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.ProvisionerSpec;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.testkit.ManagedProcess;
import dev.airlock.testkit.PlatformProcess;
import dev.airlock.testkit.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything a container needs, on real parts: a fresh MariaDB database, the platform's boot jar, a
 * signal node announced at {@code publicHost}, the provisioner's boot jar (plain mode) over mutual
 * TLS in front of the test Docker Engine with the images built locally, registered as {@code
 * local}; and an administrator logged in with a changed password. {@link #close()} stops it all and
 * removes the containers it started.
 */
public final class ContainerStack implements AutoCloseable {

  private static final Duration CALL = Duration.ofSeconds(30);
  private static final Duration START = Duration.ofSeconds(120);
  private static final String ADMIN_PASSWORD = "stack admin password";

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final String provisionerId = "st-" + Long.toHexString(System.nanoTime());
  private final Path work;
  private DockerEngine docker;
  private TestDatabase database;
  private PlatformProcess platform;
  private AirlockClient admin;
  private int signalPort;

  private ContainerStack(Path work) {
    this.work = work;
  }

  /**
   * Starts the stack; the platform and signal node listen on every address and are announced at
   * {@code publicHost} (e.g. {@link TestNetwork#HUB} for clients in the test namespaces).
   *
   * @param platformArgs more Spring Boot options for the platform
   */
  public static ContainerStack start(Path work, String publicHost, List<String> platformArgs)
      throws Exception {
    return start(work, publicHost, platformArgs, "plain");
  }

  /**
   * As {@link #start(Path, String, List)}, with the provisioner in {@code provisionerMode}: {@code
   * plain} or {@code swarm} (the test engine is a Swarm manager; it cannot set no-new-privileges
   * per service, which the provisioner is told to accept).
   */
  public static ContainerStack start(
      Path work, String publicHost, List<String> platformArgs, String provisionerMode)
      throws Exception {
    ContainerStack stack = new ContainerStack(work);
    try {
      stack.startAll(publicHost, platformArgs, provisionerMode);
      return stack;
    } catch (Exception | Error e) {
      stack.close();
      throw e;
    }
  }

  private void startAll(String publicHost, List<String> platformArgs, String provisionerMode)
      throws Exception {
    Files.createDirectories(work);
    docker = DockerEngine.require();
    Path repo = Path.of(System.getProperty("airlock.repo.dir")).toAbsolutePath();
    docker.buildImages(repo);
    Pki pki = Pki.create(repo, work.resolve("pki"));
    pki.server("provisioner");
    pki.client("platform");

    database = TestDatabase.fresh("airlock_st_");
    database.requireReachable();
    int platformPort = PlatformProcess.freePort();
    signalPort = PlatformProcess.freePort();
    int provisionerPort = PlatformProcess.freePort();
    Path dataDir = work.resolve("platform-data");
    Files.createDirectories(dataDir);
    String signalUrl = "ws://" + publicHost + ":" + signalPort;
    List<String> args = new ArrayList<>();
    args.add("--airlock.provisioning.cert-file=" + pki.cert("platform"));
    args.add("--airlock.provisioning.key-file=" + pki.key("platform"));
    args.add("--airlock.provisioning.ca-file=" + pki.ca());
    args.add("--airlock.containers.signal-url=" + signalUrl);
    args.addAll(platformArgs);
    platform =
        PlatformProcess.start(
            ContractPlatform.platformJar(),
            platformPort,
            database,
            dataDir,
            work.resolve("platform.log"),
            args);
    toClose.add(platform);
    platform.awaitHealthy(START);
    admin =
        ContractPlatform.firstAdministrator(
            platform, platform.baseUrl().toString(), ADMIN_PASSWORD);

    platform.dataFile(PlatformProcess.SIGNAL_NODE_KEY_FILE, Duration.ofSeconds(20));
    ManagedProcess signal =
        ManagedProcess.start(
            "signal",
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                Path.of(System.getProperty("airlock.signal.jar")).toAbsolutePath().toString(),
                "--server.port=" + signalPort,
                "--airlock.signal.node-id=st-node",
                "--airlock.signal.tunnel.port=0",
                "--airlock.signal.public-url=" + signalUrl,
                "--airlock.signal.admin-url=http://127.0.0.1:" + signalPort,
                "--airlock.signal.platform-url=" + platform.baseUrl(),
                "--airlock.signal.platform-key-file="
                    + dataDir.resolve(PlatformProcess.SIGNAL_NODE_KEY_FILE)),
            work.resolve("signal.log"));
    toClose.add(signal);
    signal.awaitLine("Airlock signal node st-node listening", 0, START);

    ManagedProcess provisioner =
        ManagedProcess.start(
            "provisioner",
            null,
            List.of(
                ManagedProcess.java(),
                "-jar",
                Path.of(System.getProperty("airlock.provisioner.jar")).toAbsolutePath().toString(),
                "--server.port=" + provisionerPort,
                "--airlock.provisioner.id=" + provisionerId,
                "--airlock.provisioner.docker-host=" + docker.host(),
                "--airlock.provisioner.mode=" + provisionerMode,
                "--airlock.provisioner.swarm-without-no-new-privileges="
                    + provisionerMode.equals("swarm"),
                "--airlock.provisioner.tls.cert-file=" + pki.cert("provisioner"),
                "--airlock.provisioner.tls.key-file=" + pki.key("provisioner"),
                "--airlock.provisioner.tls.ca-file=" + pki.ca()),
            work.resolve("provisioner.log"));
    toClose.add(provisioner);
    provisioner.awaitLine("Airlock provisioner " + provisionerId + " listening", 0, START);
    admin
        .provisioners()
        .createProvisioner(
            new ProvisionerSpec()
                .name("local")
                .url("https://127.0.0.1:" + provisionerPort)
                .maxContainers(10))
        .block(CALL);
  }

  /** The platform's port (it listens on every address). */
  public int platformPort() {
    return platform.baseUrl().getPort();
  }

  /** The administrator, logged in. */
  public AirlockClient admin() {
    return admin;
  }

  /** The test Docker Engine. */
  public DockerEngine docker() {
    return docker;
  }

  /** The folder of this stack's logs. */
  public Path work() {
    return work;
  }

  /** Creates a user with a password and roles; returns the password. */
  public String user(String name, List<String> roles) {
    String password = name + " has a long password";
    admin
        .users()
        .createUser(new UserCreate().username(name).password(password).roles(roles))
        .block(CALL);
    return password;
  }

  @Override
  public void close() throws Exception {
    if (docker != null) {
      for (String name : docker.withLabel("dev.airlock.provisioner=" + provisionerId)) {
        docker.removeBehindTheBack(name);
      }
    }
    for (int i = toClose.size() - 1; i >= 0; i--) {
      try {
        toClose.get(i).close();
      } catch (Exception e) {
        // keep stopping the rest
      }
    }
    if (database != null) {
      database.drop();
    }
  }
}
