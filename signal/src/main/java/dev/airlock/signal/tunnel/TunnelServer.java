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
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.Http2SslContextSpec;
import reactor.netty.http.HttpProtocol;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;

/**
 * The tunnel endpoint: edge-node agents keep an HTTP/2 connection here (TLS when a certificate is
 * configured) and open one stream per client connection, {@code POST /tunnel/v1/streams} with the
 * {@code airlock-ticket} they got in {@code tunnel.open}. {@code GET /tunnel/v1/ping} lets an agent
 * open its connection before the first stream and check it later.
 */
@Component
public class TunnelServer implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(TunnelServer.class);
  private static final AttributeKey<Boolean> WINDOW_OPENED =
      AttributeKey.valueOf("airlock.tunnel.window");

  private final TunnelProperties properties;
  private final TunnelTickets tickets;
  private volatile DisposableServer server;
  private volatile String publicUrl;

  public TunnelServer(TunnelProperties properties, TunnelTickets tickets) {
    this.properties = properties;
    this.tickets = tickets;
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
    TunnelStream stream = tickets.redeem(request.requestHeaders().get(TunnelWire.TICKET_HEADER));
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
