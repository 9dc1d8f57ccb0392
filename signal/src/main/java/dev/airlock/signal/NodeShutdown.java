package dev.airlock.signal;

import dev.airlock.signal.platform.NodeRegistration;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.LiveSockets;
import java.time.Duration;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * On stop, before the web server's graceful shutdown: ends every session (reported as "node
 * shutting down") and closes every socket with 1001 so agents reconnect to another node at once.
 * Waits a few seconds at most for the close frames and the reports.
 */
@Component
public class NodeShutdown implements SmartLifecycle {

  /** The longest the shutdown waits for sockets to close and session ends to be reported. */
  static final Duration WAIT = Duration.ofSeconds(5);

  static final int GOING_AWAY = 1001;
  static final String REASON = "node shutting down";

  private final LiveSockets sockets;
  private final SessionRegistry sessions;
  private final NodeRegistration registration;
  private volatile boolean running;

  public NodeShutdown(
      LiveSockets sockets, SessionRegistry sessions, NodeRegistration registration) {
    this.sockets = sockets;
    this.sessions = sessions;
    this.registration = registration;
  }

  @Override
  public void start() {
    running = true;
  }

  @Override
  public void stop(Runnable callback) {
    running = false;
    registration.stop();
    sessions.endAll(REASON, GOING_AWAY, REASON);
    sockets
        .closeAll(GOING_AWAY, REASON)
        .timeout(WAIT, Mono.empty())
        .then(Mono.defer(() -> sessions.reportsSent(WAIT)))
        .doFinally(signal -> callback.run())
        .subscribe();
  }

  @Override
  public void stop() {
    stop(() -> {});
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    // Before the web server's graceful shutdown (a lower phase), which would wait on the sockets.
    return SmartLifecycle.DEFAULT_PHASE;
  }
}
