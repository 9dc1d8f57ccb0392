package dev.airlock.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * One request the driver repeats: method, URL, credential and body are fixed, so a phase measures
 * the server and not the driver's request building.
 *
 * @param name the scenario's short name, e.g. {@code me-jwt}
 * @param label what the request is, e.g. {@code GET /api/v1/auth/me (access token)}
 * @param authorization the {@code Authorization} header, or null
 * @param jsonBody the request body, or null for none
 */
record Endpoint(
    String name,
    String label,
    String baseUrl,
    HttpMethod method,
    String path,
    String authorization,
    String jsonBody,
    int expectedStatus) {

  /** Every request gives up after this long and counts as an error. */
  static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(10);

  private static final byte[] NO_BODY = new byte[0];

  /** An HTTP/1.1 keep-alive client for this endpoint over {@code connections}. */
  HttpClient client(ConnectionProvider connections) {
    byte[] body = jsonBody == null ? null : jsonBody.getBytes(StandardCharsets.UTF_8);
    return HttpClient.create(connections)
        .baseUrl(baseUrl)
        .responseTimeout(RESPONSE_TIMEOUT)
        .headers(
            h -> {
              h.set(HttpHeaderNames.ACCEPT, "application/json");
              if (authorization != null) {
                h.set(HttpHeaderNames.AUTHORIZATION, authorization);
              }
              if (body != null) {
                h.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
                h.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
              }
            });
  }

  /** Sends the request once; emits its outcome, never an error. */
  Mono<Result> send(HttpClient client) {
    HttpClient.RequestSender request = client.request(method).uri(path);
    HttpClient.ResponseReceiver<?> sent =
        jsonBody == null
            ? request
            : request.send(
                Mono.fromSupplier(
                    () ->
                        (ByteBuf)
                            Unpooled.wrappedBuffer(jsonBody.getBytes(StandardCharsets.UTF_8))));
    return sent.responseSingle(
            (response, content) ->
                content
                    .asByteArray()
                    .defaultIfEmpty(NO_BODY)
                    .map(bytes -> Result.of(response.status().code(), bytes, expectedStatus)))
        .onErrorResume(e -> Mono.just(Result.failed(e)));
  }

  /**
   * What one request got.
   *
   * @param status the HTTP status, 0 when no response came
   * @param bytes the response body's length
   * @param problem why this counts as an error, or null when it does not
   */
  record Result(int status, int bytes, String problem) {

    static Result of(int status, byte[] body, int expectedStatus) {
      if (status == expectedStatus) {
        return new Result(status, body.length, null);
      }
      String text = new String(body, StandardCharsets.UTF_8);
      return new Result(
          status,
          body.length,
          "HTTP " + status + " (expected: " + expectedStatus + "): " + abbreviate(text, 400));
    }

    static Result failed(Throwable e) {
      return new Result(0, 0, e.getClass().getSimpleName() + ": " + e.getMessage());
    }

    private static String abbreviate(String text, int max) {
      return text.length() <= max ? text : text.substring(0, max) + "…";
    }
  }
}
