package dev.airlock.sdk;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A real HTTP server on a loopback port that stands in for the platform: it answers with canned
 * responses per method and path, and records every request it receives.
 */
final class StubPlatform implements AutoCloseable {

  /** A request as the stub received it. */
  record Received(String method, String path, Map<String, String> headers, String body) {

    String header(String name) {
      return headers.get(name.toLowerCase());
    }
  }

  /** A canned response. */
  record Reply(int status, String contentType, Map<String, String> headers, String body) {

    static Reply json(int status, String body) {
      return new Reply(status, "application/json", Map.of(), body);
    }

    static Reply problem(int status, String body, Map<String, String> headers) {
      return new Reply(status, "application/problem+json", headers, body);
    }

    static Reply noContent() {
      return new Reply(204, null, Map.of(), "");
    }
  }

  private final Map<String, Function<Received, Reply>> routes = new ConcurrentHashMap<>();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final DisposableServer server;

  StubPlatform() {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (request, response) ->
                    request
                        .receive()
                        .aggregate()
                        .asString(StandardCharsets.UTF_8)
                        .defaultIfEmpty("")
                        .flatMap(
                            body -> {
                              Map<String, String> headers = new ConcurrentHashMap<>();
                              request
                                  .requestHeaders()
                                  .forEach(
                                      h -> headers.put(h.getKey().toLowerCase(), h.getValue()));
                              String path = request.fullPath();
                              Received r =
                                  new Received(request.method().name(), path, headers, body);
                              received.add(r);
                              Function<Received, Reply> route =
                                  routes.get(request.method().name() + " " + path);
                              Reply reply =
                                  route != null
                                      ? route.apply(r)
                                      : Reply.problem(
                                          404,
                                          "{\"type\":\"urn:airlock:problem:route-not-found\","
                                              + "\"title\":\"Not Found\",\"status\":404}",
                                          Map.of());
                              response.status(HttpResponseStatus.valueOf(reply.status()));
                              if (reply.contentType() != null) {
                                response.header("Content-Type", reply.contentType());
                              }
                              reply.headers().forEach(response::header);
                              return response.sendString(Mono.just(reply.body())).then();
                            }))
            .bindNow(Duration.ofSeconds(10));
  }

  /** Answers {@code method path} (path without query) with the function's reply. */
  StubPlatform on(String method, String path, Function<Received, Reply> reply) {
    routes.put(method + " " + path, reply);
    return this;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  List<Received> received(String method, String path) {
    return received.stream()
        .filter(r -> r.method().equals(method) && r.path().equals(path))
        .toList();
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(5));
  }
}
