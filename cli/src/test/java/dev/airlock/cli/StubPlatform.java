package dev.airlock.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A real HTTP server on a loopback port standing in for a platform that answers what a test needs
 * (a container that fails, a quota, a proxy's error page): canned replies per method and path, and
 * every request recorded. Tests of behaviour the real platform can show run against it instead.
 */
final class StubPlatform implements AutoCloseable {

  /** A request as received. */
  record Received(
      String method, String path, String query, Map<String, String> headers, String body) {

    String header(String name) {
      return headers.get(name.toLowerCase());
    }
  }

  /** A canned reply. */
  record Reply(int status, String contentType, Map<String, String> headers, String body) {

    static Reply json(int status, String body) {
      return new Reply(status, "application/json", Map.of(), body);
    }

    static Reply problem(int status, String type, String title, String detail) {
      return problem(status, type, title, detail, Map.of());
    }

    static Reply problem(
        int status, String type, String title, String detail, Map<String, String> headers) {
      return new Reply(
          status,
          "application/problem+json",
          headers,
          "{\"type\":\"%s\",\"title\":\"%s\",\"status\":%d,\"detail\":\"%s\"}"
              .formatted(type, title, status, detail));
    }
  }

  private final Map<String, Function<Received, Reply>> routes = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final HttpServer server;

  StubPlatform() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      Map<String, String> headers = new ConcurrentHashMap<>();
      exchange
          .getRequestHeaders()
          .forEach((name, values) -> headers.put(name.toLowerCase(), String.join(",", values)));
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String path = exchange.getRequestURI().getPath();
      String query = exchange.getRequestURI().getRawQuery();
      Received request =
          new Received(exchange.getRequestMethod(), path, query, Map.copyOf(headers), body);
      received.add(request);
      Function<Received, Reply> route = routes.get(request.method() + " " + path);
      Reply reply =
          route != null
              ? route.apply(request)
              : Reply.problem(404, "urn:airlock:problem:route-not-found", "No such route", path);
      if (reply.contentType() != null) {
        exchange.getResponseHeaders().set("Content-Type", reply.contentType());
      }
      reply.headers().forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
      byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  /** Answers {@code method path} (without the query) with the function's reply. */
  StubPlatform on(String method, String path, Function<Received, Reply> reply) {
    routes.put(method + " " + path, reply);
    return this;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  List<Received> received(String method, String path) {
    return received.stream()
        .filter(r -> r.method().equals(method) && r.path().equals(path))
        .toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
