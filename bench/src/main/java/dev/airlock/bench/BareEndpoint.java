package dev.airlock.bench;

import io.netty.handler.codec.http.HttpHeaderNames;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The ceiling: a reactor-netty HTTP server with nothing in it but {@code GET /bare} answering
 * {@value #BODY}. It runs in a JVM of its own, as the platform does, so neither shares a heap, a
 * JIT or event loops with the driver.
 */
final class BareEndpoint implements AutoCloseable {

  static final String BODY = "{\"status\":\"UP\"}";
  static final String PATH = "/bare";

  private final Process process;
  private final int port;

  private BareEndpoint(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts the bare endpoint in a child JVM on a free loopback port. */
  static BareEndpoint start() throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Process process =
        new ProcessBuilder(
                List.of(
                    java.toString(),
                    "-cp",
                    System.getProperty("java.class.path"),
                    LoadDriver.class.getName(),
                    "--serve-bare"))
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("READY ")) {
      process.destroyForcibly();
      throw new IllegalStateException(
          "The bare endpoint did not start: said " + line + " (expected: READY <port>)");
    }
    return new BareEndpoint(process, Integer.parseInt(line.substring(6).trim()));
  }

  /** Serves until standard input closes, i.e. until the driver stops it or dies. */
  static void serve() throws IOException {
    byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
    DisposableServer server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(
                routes ->
                    routes.get(
                        PATH,
                        (request, response) ->
                            response
                                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                                .header(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(body.length))
                                .sendByteArray(Mono.just(body))))
            .bindNow(Duration.ofSeconds(10));
    System.out.println("READY " + server.port());
    System.out.flush();
    while (System.in.read() != -1) {
      // the driver never writes; end of input is the signal
    }
    server.disposeNow(Duration.ofSeconds(5));
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port;
  }

  ProcessHandle process() {
    return process.toHandle();
  }

  @Override
  public void close() {
    try {
      process.getOutputStream().close();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (IOException e) {
      process.destroyForcibly();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
