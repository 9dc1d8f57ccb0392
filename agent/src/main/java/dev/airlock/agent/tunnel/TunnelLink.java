package dev.airlock.agent.tunnel;

import dev.airlock.peer.SignalSocket;
import dev.airlock.protocol.TunnelWire;
import dev.airlock.protocol.message.SignalMessage;
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
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * An edge node's (or a trusted cluster link's) reverse tunnel to its signal node: one HTTP/2
 * connection (TLS for an {@code https://} URL) that this agent dialled, which carries its
 * signalling ({@link #signalling()}) and a stream for each {@code tunnel.open}, opened after
 * connecting to what it asks for ({@link StreamTargets}). Bytes are copied both ways with
 * backpressure: a target that does not read stops its stream's window, and only that stream.
 */
public final class TunnelLink {

  private static final Logger log = LoggerFactory.getLogger(TunnelLink.class);
  private static final AttributeKey<Boolean> WINDOW_OPENED =
      AttributeKey.valueOf("airlock.tunnel.window");

  private final URI url;
  private final StreamTargets targets;
  private final ConnectionProvider pool;
  private final HttpClient http;
  private final Map<UUID, Disposable> streams = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param url the signal node's {@code tunnelUrl} from {@code welcome}
   * @param caFile PEM CA certificates to trust for {@code https://} instead of the JVM's, or null
   */
  public TunnelLink(URI url, StreamTargets targets, Path caFile) {
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
   * Opens the agent's signalling stream on this connection ({@code POST /tunnel/v1/control}),
   * connecting first if need be.
   */
  public Mono<SignalSocket> signalling() {
    return SignalSocket.overStream(http, TunnelWire.CONTROL_PATH);
  }

  /**
   * Checks that the connection works (a ping stream), connecting first if need be.
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
   * Connects what {@code open} ({@code tunnel.open}) asks for and opens the stream for its session
   * with its ticket.
   *
   * @param refused called with the session and the reason when the target is not declared, cannot
   *     be reached or refuses (the agent then answers {@code session.close})
   */
  public void openStream(SignalMessage open, BiConsumer<UUID, String> refused) {
    UUID sessionId = open.getSessionId();
    if (closed) {
      refused.accept(sessionId, "the node's tunnel is closing");
      return;
    }
    Disposable.Swap stream = Disposables.swap();
    streams.put(sessionId, stream);
    stream.update(
        targets
            .dial(open)
            .flatMap(far -> bridge(far, open.getTicket()).doFinally(s -> far.dispose()))
            .subscribe(
                done -> {},
                error -> {
                  streams.remove(sessionId, stream);
                  if (error instanceof StreamTargets.Unreachable) {
                    log.warn("Tunnel {}: {}", sessionId, error.getMessage());
                    refused.accept(sessionId, error.getMessage());
                  } else {
                    log.info(
                        "Tunnel {} to {} failed: {}",
                        sessionId,
                        open.getTarget(),
                        error.toString());
                  }
                },
                () -> {
                  streams.remove(sessionId, stream);
                  log.debug("Tunnel {} to {} ended", sessionId, open.getTarget());
                }));
  }

  /** Copies the far end's bytes into the stream's request and the response into the far end. */
  private Mono<Void> bridge(StreamTargets.FarEnd far, String ticket) {
    return http.headers(headers -> headers.set(TunnelWire.TICKET_HEADER, ticket))
        .post()
        .uri(TunnelWire.STREAMS_PATH)
        .send((request, outbound) -> outbound.send(far.receive()))
        .response(
            (response, body) -> {
              if (response.status().code() != 200) {
                return Mono.error(
                    new IllegalStateException(
                        "the signal node refused the stream: " + response.status()));
              }
              return far.send(body);
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
}
