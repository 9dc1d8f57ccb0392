package dev.airlock.agent.tunnel;

import dev.airlock.protocol.TunnelWire;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.util.AttributeKey;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.tcp.TcpClient;

/**
 * An edge node's reverse tunnel to its signal node: one HTTP/2 connection (TLS for an {@code
 * https://} URL) that this agent dialled, on which it opens a stream for each {@code tunnel.open}
 * after connecting to the target. Bytes are copied both ways with backpressure: a target that does
 * not read stops its stream's window, and only that stream.
 */
public final class TunnelLink {

  /** How long a target may take to accept a connection. */
  public static final Duration TARGET_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(TunnelLink.class);
  private static final AttributeKey<Boolean> WINDOW_OPENED =
      AttributeKey.valueOf("airlock.tunnel.window");

  private final URI url;
  private final TunnelTargets targets;
  private final ConnectionProvider pool;
  private final HttpClient http;
  private final Map<UUID, Disposable> streams = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param url the signal node's {@code tunnelUrl} from {@code welcome}
   * @param caFile PEM CA certificates to trust for {@code https://} instead of the JVM's, or null
   */
  public TunnelLink(URI url, TunnelTargets targets, Path caFile) {
    this.url = url;
    this.targets = targets;
    // One connection, however many streams: that is the tunnel.
    this.pool =
        ConnectionProvider.builder("airlock-tunnel")
            .maxConnections(1)
            .pendingAcquireMaxCount(-1)
            .pendingAcquireTimeout(Duration.ofSeconds(10))
            .build();
    HttpClient client =
        HttpClient.create(pool)
            .baseUrl(url.toString())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
            .http2Settings(
                settings ->
                    settings
                        .initialWindowSize(TunnelWire.STREAM_WINDOW)
                        .maxFrameSize(TunnelWire.MAX_FRAME)
                        .maxDecodedRstFramesPerWindow(
                            TunnelWire.MAX_RESETS_PER_SECOND, TunnelWire.RESET_WINDOW_SECONDS)
                        .pingAckTimeout(Duration.ofSeconds(15)))
            // On an HTTP/2 client this is the connection itself (on a server, a stream of it).
            .doOnConnected(
                connection ->
                    openConnectionWindow(
                        connection.channel().parent() != null
                            ? connection.channel().parent()
                            : connection.channel()));
    if ("https".equalsIgnoreCase(url.getScheme())) {
      client =
          client
              .protocol(HttpProtocol.H2)
              .secure(
                  tls ->
                      tls.sslContext(
                          caFile == null
                              ? Http2SslContextSpec.forClient()
                              : Http2SslContextSpec.forClient()
                                  .configure(builder -> builder.trustManager(caFile.toFile()))));
    } else {
      client = client.protocol(HttpProtocol.H2C);
    }
    this.http = client;
  }

  /** The signal node's tunnel URL. */
  public URI url() {
    return url;
  }

  /**
   * Opens the connection now (rather than at the first stream) and checks that it works.
   *
   * @return completes when the node answered, or errors saying why it could not be reached
   */
  public Mono<Void> open() {
    return http.get()
        .uri(TunnelWire.PING_PATH)
        .responseSingle(
            (response, body) ->
                response.status().code() == 204
                    ? Mono.<Void>empty()
                    : Mono.error(
                        new IllegalStateException(
                            "the tunnel endpoint answered " + response.status() + " to a ping")))
        .timeout(Duration.ofSeconds(10));
  }

  /**
   * Connects to {@code targetName} and opens the stream for session {@code sessionId} with {@code
   * ticket}.
   *
   * @param refused called with the session and the reason when the target is not declared or cannot
   *     be reached (the agent then answers {@code session.close})
   */
  public void openStream(
      UUID sessionId, String targetName, String ticket, BiConsumer<UUID, String> refused) {
    TunnelTargets.Target target = targets.get(targetName);
    if (target == null) {
      log.warn("Refusing a stream to {}: this node does not declare it", targetName);
      refused.accept(sessionId, targetName + " is not declared on this node");
      return;
    }
    if (closed) {
      refused.accept(sessionId, "the node's tunnel is closing");
      return;
    }
    Disposable.Swap stream = Disposables.swap();
    streams.put(sessionId, stream);
    stream.update(
        // Unpooled: each stream is its own connection to the target, and the shared pool would cap
        // them at 500 per target.
        TcpClient.newConnection()
            .host(target.host())
            .port(target.port())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) TARGET_CONNECT_TIMEOUT.toMillis())
            .connect()
            .onErrorMap(
                error ->
                    new TargetUnreachable(
                        "cannot reach "
                            + target.name()
                            + " ("
                            + target.address()
                            + "): "
                            + (error.getMessage() == null ? error.toString() : error.getMessage())))
            .flatMap(connection -> bridge(connection, ticket).doFinally(s -> connection.dispose()))
            .subscribe(
                done -> {},
                error -> {
                  streams.remove(sessionId, stream);
                  if (error instanceof TargetUnreachable) {
                    log.warn("Tunnel {}: {}", sessionId, error.getMessage());
                    refused.accept(sessionId, error.getMessage());
                  } else {
                    log.info(
                        "Tunnel {} to {} failed: {}", sessionId, target.name(), error.toString());
                  }
                },
                () -> {
                  streams.remove(sessionId, stream);
                  log.debug("Tunnel {} to {} ended", sessionId, target.name());
                }));
  }

  /** Copies the target's bytes into the stream's request and the response into the target. */
  private Mono<Void> bridge(Connection target, String ticket) {
    return http.headers(headers -> headers.set(TunnelWire.TICKET_HEADER, ticket))
        .post()
        .uri(TunnelWire.STREAMS_PATH)
        .send((request, outbound) -> outbound.send(target.inbound().receive().retain()))
        .response(
            (response, body) -> {
              if (response.status().code() != 200) {
                return Mono.error(
                    new IllegalStateException(
                        "the signal node refused the stream: " + response.status()));
              }
              return target.outbound().send(body.retain()).then();
            })
        .then();
  }

  /** Ends the stream of {@code sessionId} (the client left, or the node ended it). */
  public void closeStream(UUID sessionId) {
    Disposable stream = streams.remove(sessionId);
    if (stream != null) {
      stream.dispose();
    }
  }

  /** How many streams are open. */
  public int streams() {
    return streams.size();
  }

  /** Ends every stream and the connection. */
  public Mono<Void> close() {
    closed = true;
    streams.values().forEach(Disposable::dispose);
    streams.clear();
    return pool.disposeLater();
  }

  /** Widens this side's connection window once (see {@link TunnelWire#CONNECTION_WINDOW}). */
  private static void openConnectionWindow(Channel connection) {
    if (connection != null && connection.attr(WINDOW_OPENED).setIfAbsent(Boolean.TRUE) == null) {
      connection.writeAndFlush(
          new DefaultHttp2WindowUpdateFrame(
              TunnelWire.CONNECTION_WINDOW - TunnelWire.INITIAL_CONNECTION_WINDOW));
    }
  }

  /** The target could not be reached; the client is told why. */
  private static final class TargetUnreachable extends RuntimeException {
    TargetUnreachable(String message) {
      super(message, null, false, false);
    }
  }
}
