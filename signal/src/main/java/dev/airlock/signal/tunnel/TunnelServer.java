package dev.airlock.signal.tunnel;

import dev.airlock.protocol.TunnelWire;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.ssl.OpenSsl;
import io.netty.util.AttributeKey;
import java.time.Duration;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.reactive.socket.WebSocketHandler;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The tunnel endpoint: edge-node agents keep one HTTP/2 connection here (TLS when a certificate is
 * configured). On it they signal, on a long-lived {@code POST /tunnel/v1/control} stream that the
 * agent handler runs as it runs an agent WebSocket ({@link ControlStreamSession}), and open one
 * stream per client connection, {@code POST /tunnel/v1/streams} with the {@code airlock-ticket}
 * they got in {@code tunnel.open}. {@code GET /tunnel/v1/ping} checks the connection.
 */
@Component
public class TunnelServer implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(TunnelServer.class);
  private static final AttributeKey<Boolean> WINDOW_OPENED =
      AttributeKey.valueOf("airlock.tunnel.window");

  private final TunnelProperties properties;
  private final TunnelTickets tickets;
  private final ObjectProvider<WebSocketHandler> agents;
  private volatile DisposableServer server;
  private volatile String publicUrl;

  /**
   * @param agents the agent socket handler (a provider: it needs this server's URL for its welcome)
   */
  public TunnelServer(
      TunnelProperties properties,
      TunnelTickets tickets,
      @Qualifier("agentSocketHandler") ObjectProvider<WebSocketHandler> agents) {
    this.properties = properties;
    this.tickets = tickets;
    this.agents = agents;
  }

  /** The URL agents dial, or null while stopped or turned off. */
  public String publicUrl() {
    return publicUrl;
  }

  @Override
  public void start() {
    if (!properties.enabled()) {
      log.info("Tunnels are off (airlock.signal.tunnel.port=-1)");
      return;
    }
    HttpServer http =
        HttpServer.create()
            .host(properties.host())
            .port(properties.port())
            .http2Settings(
                settings ->
                    settings
                        .maxConcurrentStreams(properties.maxStreamsPerNode())
                        .initialWindowSize(TunnelWire.STREAM_WINDOW)
                        .maxFrameSize(TunnelWire.MAX_FRAME)
                        .maxDecodedRstFramesPerWindow(
                            TunnelWire.MAX_RESETS_PER_SECOND, TunnelWire.RESET_WINDOW_SECONDS))
            .idleTimeout(Duration.ofMinutes(10))
            .doOnConnection(stream -> openConnectionWindow(stream.channel().parent()))
            .route(
                routes ->
                    routes
                        .post(TunnelWire.STREAMS_PATH, this::stream)
                        .post(TunnelWire.CONTROL_PATH, this::control)
                        .get(TunnelWire.PING_PATH, (request, response) -> response.status(204)));
    if (properties.tls()) {
      http =
          http.protocol(HttpProtocol.H2)
              .secure(
                  tls ->
                      tls.sslContext(
                          Http2SslContextSpec.forServer(
                              properties.tlsCertFile().toFile(),
                              properties.tlsKeyFile().toFile())));
    } else {
      http = http.protocol(HttpProtocol.H2C);
      log.warn(
          "The tunnel endpoint speaks cleartext HTTP/2: put it behind a TLS front, or set"
              + " airlock.signal.tunnel.tls-cert-file and tls-key-file");
    }
    server = http.bindNow();
    String scheme =
        !properties.tls()
            ? "http"
            : OpenSsl.isAvailable() ? "https, " + OpenSsl.versionString() : "https, JDK TLS";
    publicUrl =
        properties.publicUrl().isEmpty()
            ? (properties.tls() ? "https" : "http") + "://localhost:" + server.port()
            : properties.publicUrl();
    log.info(
        "Tunnel endpoint listening on port {} ({}), announced as {}",
        server.port(),
        scheme,
        publicUrl);
  }

  /**
   * Widens the connection's receive window once per connection. Netty keeps it at HTTP/2's initial
   * 64 KiB, which a single stream that stops reading would fill, stalling every other stream.
   */
  private static void openConnectionWindow(Channel connection) {
    if (connection != null && connection.attr(WINDOW_OPENED).setIfAbsent(Boolean.TRUE) == null) {
      connection.writeAndFlush(
          new DefaultHttp2WindowUpdateFrame(
              TunnelWire.CONNECTION_WINDOW - TunnelWire.INITIAL_CONNECTION_WINDOW));
    }
  }

  private Publisher<Void> stream(HttpServerRequest request, HttpServerResponse response) {
    Channel connection = ControlStreamSession.connectionOf(request);
    TunnelStream stream =
        tickets.redeem(
            request.requestHeaders().get(TunnelWire.TICKET_HEADER),
            waiting -> onItsAgentsConnection(waiting, connection));
    if (stream == null) {
      return response
          .status(HttpResponseStatus.NOT_FOUND)
          .header(HttpHeaderNames.CONTENT_TYPE, "text/plain")
          .sendString(Mono.just("unknown, used or expired ticket\n"))
          .then();
    }
    // Headers now, so the agent knows the stream is taken before any byte flows.
    return response
        .status(HttpResponseStatus.OK)
        .sendHeaders()
        .then()
        .then(Mono.defer(() -> response.send(stream.attach(request.receive().retain())).then()));
  }

  /**
   * Whether a stream for {@code waiting} may come on {@code connection}: a ticket sent on an
   * agent's signalling stream is good on that stream's connection only (one sent on an agent
   * WebSocket, on any).
   */
  private static boolean onItsAgentsConnection(TunnelStream waiting, Channel connection) {
    return !(waiting.session().agent().session() instanceof ControlStreamSession control)
        || control.connection() == connection;
  }

  /** An agent's signalling stream: runs until either side closes it, or the connection goes. */
  private Publisher<Void> control(HttpServerRequest request, HttpServerResponse response) {
    ControlStreamSession session =
        new ControlStreamSession(request, new NettyDataBufferFactory(response.alloc()));
    Mono<Void> handled = agents.getObject().handle(session).onErrorResume(error -> Mono.empty());
    // Headers now: the agent sends hello once it knows the node took the stream.
    Mono<Void> sent =
        response
            .status(HttpResponseStatus.OK)
            .header(HttpHeaderNames.CONTENT_TYPE, TunnelWire.CONTROL_MEDIA_TYPE)
            .sendHeaders()
            .then()
            .then(Mono.defer(() -> response.send(session.body()).then()));
    return Mono.when(sent, handled);
  }

  @Override
  public int getPhase() {
    // Stops after NodeShutdown (a higher phase), which closes the agents' control streams with
    // 1001 so that they reconnect as from a restarting node.
    return SmartLifecycle.DEFAULT_PHASE - 1024;
  }

  @Override
  public void stop() {
    DisposableServer running = server;
    if (running != null) {
      running.disposeNow(Duration.ofSeconds(5));
      server = null;
      publicUrl = null;
    }
  }

  @Override
  public boolean isRunning() {
    return server != null;
  }
}
