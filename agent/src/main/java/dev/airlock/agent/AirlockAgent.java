package dev.airlock.agent;

import dev.airlock.peer.WebRtcRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The agent program: {@code java -jar airlock-agent.jar --config FILE [--key=value…]} (see {@link
 * AgentConfig} for the keys). Runs until SIGTERM or SIGINT (exit status 0) or a permanent refusal:
 * {@value #EXIT_JOIN_TOKEN_REFUSED} when the join token is refused at enrolment, {@value
 * #EXIT_REVOKED} when the agent is revoked; {@value #EXIT_CONFIG} when the configuration or state
 * directory is unusable.
 */
public final class AirlockAgent {

  /** Bad configuration or unusable state directory. */
  public static final int EXIT_CONFIG = 1;

  /** The platform refused the join token (close 4401 during enrolment). */
  public static final int EXIT_JOIN_TOKEN_REFUSED = 2;

  /** The agent was revoked (close 4403). */
  public static final int EXIT_REVOKED = 3;

  private static final Logger log = LoggerFactory.getLogger(AirlockAgent.class);

  private AirlockAgent() {}

  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String[] args) {
    AgentConfig config;
    AgentState state;
    String version = version();
    try {
      config = AgentConfig.load(args, System.getenv());
      System.out.println("Airlock agent " + version + " starting; state in " + config.stateDir());
      state = AgentState.open(config.stateDir());
    } catch (AgentConfig.InvalidConfigException | UncheckedIOException | IllegalStateException e) {
      System.err.println("airlock-agent: " + e.getMessage());
      return EXIT_CONFIG;
    }
    if (state.agentId().isEmpty() && config.joinToken() == null) {
      System.err.println(
          "airlock-agent: not enrolled yet and no join-token (expected: join-token in the config"
              + " file, "
              + AgentConfig.environmentName("join-token")
              + " or --join-token=)");
      return EXIT_CONFIG;
    }
    if (state.agentId().isPresent() && config.joinToken() != null) {
      log.info("Already enrolled as agent {}; the join token is not used", state.agentId().get());
    }

    AtomicInteger status = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    WebRtcRuntime.keepAlive(true);
    AgentConnection connection =
        new AgentConnection(
            config,
            state,
            version,
            code -> {
              status.set(code);
              done.countDown();
            });
    Signal.handle(new Signal("TERM"), signal -> done.countDown());
    Signal.handle(new Signal("INT"), signal -> done.countDown());
    connection.start();
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // The main thread may wait here: the program is ending, no reactive path runs on it.
    connection
        .stop()
        .timeout(Duration.ofSeconds(5))
        .onErrorResume(e -> reactor.core.publisher.Mono.empty())
        .block();
    WebRtcRuntime.shutdown();
    log.info("Airlock agent stopped");
    return status.get();
  }

  private static String version() {
    try (InputStream in = AirlockAgent.class.getResourceAsStream("/airlock-agent.properties")) {
      Properties properties = new Properties();
      if (in != null) {
        properties.load(in);
      }
      return properties.getProperty("version", "dev");
    } catch (IOException e) {
      return "dev";
    }
  }
}
