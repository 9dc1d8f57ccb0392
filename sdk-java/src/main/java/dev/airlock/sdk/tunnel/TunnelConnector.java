package dev.airlock.sdk.tunnel;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.sdk.api.SessionsApi;
import dev.airlock.sdk.model.SessionCreate;
import dev.airlock.sdk.model.SessionCreated;
import dev.airlock.sdk.model.SessionMode;
import io.netty.channel.ChannelOption;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.http.client.HttpClient;

/**
 * Opens tunnel streams; {@code AirlockClient.tunnel} is the way to use it. Each call: {@code POST
 * /api/v1/sessions} (mode {@code tunnel}), the signal node's client socket with the connect token,
 * {@code hello}, and the node's {@code welcome}, which it sends once the edge node has connected to
 * the target and opened the stream.
 */
public final class TunnelConnector {

  /** The default limit for reaching the signal node, and then for its {@code welcome}. */
  public static final Duration DEFAULT_OPEN_TIMEOUT = Duration.ofSeconds(15);

  private static final Logger log = LoggerFactory.getLogger(TunnelConnector.class);

  private final SessionsApi sessions;
  private final HttpClient signalClient;

  public TunnelConnector(SessionsApi sessions) {
    this.sessions = sessions;
    // A WebSocket is never handed back to a pool: unpooled, so that the pool's limit of 500
    // connections per address does not cap how many streams one client holds.
    this.signalClient =
        HttpClient.newConnection()
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) DEFAULT_OPEN_TIMEOUT.toMillis());
  }

  /** See {@code AirlockClient.tunnel(String, String, String, Duration)}. */
  public Mono<TunnelStream> open(String node, String target, String login, Duration timeout) {
    return open(null, node, target, login, timeout);
  }

  /**
   * See {@code AirlockClient.tunnelInCluster}: the same, routed through the trusted cluster {@code
   * cluster} when it is not null ({@code node} may then be null for target {@code nodes}).
   */
  public Mono<TunnelStream> open(
      String cluster, String node, String target, String login, Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "timeout: " + timeout + " (expected: a positive duration)");
    }
    return Mono.defer(
        () ->
            sessions
                .createSession(
                    new SessionCreate()
                        .target(cluster == null ? node : cluster)
                        .node(cluster == null ? null : node)
                        .mode(SessionMode.TUNNEL)
                        .tunnelTarget(target)
                        .login(login))
                .flatMap(
                    created ->
                        new Attempt(
                                cluster == null
                                    ? node
                                    : cluster + "/" + (node == null ? "(nodes)" : node),
                                target,
                                created,
                                timeout)
                            .run()));
  }

  /** One stream being opened. */
  private final class Attempt {

    private final String node;
    private final String target;
    private final SessionCreated created;
    private final Duration timeout;
    private final Sinks.One<SignalMessage> welcome = Sinks.one();
    private final AtomicBoolean welcomed = new AtomicBoolean();
    private volatile TunnelSocket socket;

    Attempt(String node, String target, SessionCreated created, Duration timeout) {
      this.node = node;
      this.target = target;
      this.created = created;
      this.timeout = timeout;
    }

    Mono<TunnelStream> run() {
      URI url = URI.create(created.getSignalUrl());
      return TunnelSocket.connect(signalClient, url, this::onMessage, this::failure)
          .timeout(timeout)
          .onErrorMap(
              error -> !(error instanceof TunnelException),
              error ->
                  new TunnelException(
                      0,
                      "",
                      "cannot reach the signal node at "
                          + url
                          + " (tunnel to "
                          + target
                          + " on node "
                          + node
                          + "): "
                          + (error instanceof TimeoutException
                              ? "no answer within " + timeout.toSeconds() + " s"
                              : error.getMessage()),
                      error))
          .flatMap(this::handshake)
          .doOnCancel(this::cleanUp)
          .onErrorResume(
              error -> {
                cleanUp();
                return Mono.error(error);
              });
    }

    private Mono<TunnelStream> handshake(TunnelSocket opened) {
      socket = opened;
      opened
          .closed()
          .subscribe(ending -> welcome.tryEmitError(failure(ending)), error -> {}, () -> {});
      opened.send(
          new SignalMessage()
              .type(MessageType.HELLO)
              .protocol(SignalCodec.VERSION)
              .connectToken(created.getConnectToken()));
      return welcome
          .asMono()
          .timeout(
              timeout,
              Mono.error(
                  () ->
                      new TunnelException(
                          0,
                          "",
                          "no welcome from the signal node within "
                              + timeout.toSeconds()
                              + " s: node "
                              + node
                              + " did not open the stream to "
                              + target
                              + " in time",
                          null)))
          .map(
              welcomed ->
                  new TunnelStream(
                      welcomed.getSessionId() != null ? welcomed.getSessionId() : created.getId(),
                      node,
                      target,
                      opened));
    }

    private void onMessage(SignalMessage message) {
      switch (message.getType()) {
        case WELCOME -> {
          welcomed.set(true);
          welcome.tryEmitValue(message);
        }
        case ERROR ->
            log.warn("Signal node, tunnel to {} on {}: {}", target, node, message.getReason());
        case SESSION_CLOSE ->
            log.debug(
                "Tunnel to {} on {} closed by the node: {}", target, node, message.getReason());
        default -> log.debug("Ignoring {} from the signal node", message.getType());
      }
    }

    private TunnelException failure(TunnelStream.Ending ending) {
      return TunnelException.ended(node, target, welcomed.get(), ending.code(), ending.reason());
    }

    private void cleanUp() {
      TunnelSocket opened = socket;
      if (opened != null && opened.isOpen()) {
        opened.close(CloseCodes.NORMAL, "tunnel not opened").subscribe();
      }
    }
  }
}
