package dev.airlock.contract.harness;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.LevelResolver;
import com.atlassian.oai.validator.report.MessageResolver;
import com.atlassian.oai.validator.report.ValidationReport;
import com.atlassian.oai.validator.schema.SchemaValidator;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A reverse proxy on a loopback port that forwards every request to the platform unchanged and
 * validates every response against {@code openapi/airlock.yaml} before passing it back.
 *
 * <p>Only responses are validated: tests send malformed requests on purpose. Validation is strict:
 * a response property that its schema does not name is a violation too. A response to a request
 * whose path or method the spec does not describe must be a problem document ({@code
 * application/problem+json}, the {@code Problem} schema, a 4xx or 5xx status). Every error response
 * must also keep its problem's {@code status} equal to the HTTP status and carry no stack trace.
 * Whatever breaks these rules is recorded as a {@link Violation}; the proxy never alters traffic
 * because of it.
 */
public final class ValidatingProxy implements AutoCloseable {

  /** One response that broke the contract. */
  public record Violation(
      String method, String uri, int status, List<String> messages, String body) {

    /** A multi-line description for a failure message. */
    public String describe() {
      String excerpt = body.length() > 600 ? body.substring(0, 600) + "…" : body;
      return method
          + " "
          + uri
          + " -> "
          + status
          + "\n    "
          + String.join("\n    ", messages)
          + (excerpt.isEmpty() ? "" : "\n    body: " + excerpt.replace("\n", "\n          "));
    }
  }

  private record Answer(int status, HttpHeaders headers, byte[] body) {}

  private static final byte[] NO_BODY = new byte[0];
  private static final Duration UPSTREAM_TIMEOUT = Duration.ofSeconds(60);
  private static final String PROBLEM_JSON = "application/problem+json";
  private static final Set<String> UNKNOWN_ROUTE_KEYS =
      Set.of("validation.request.path.missing", "validation.request.operation.notAllowed");

  /** Headers that describe one hop, not the message (RFC 9110 §7.6.1), plus those we recompute. */
  private static final Set<String> NOT_FORWARDED =
      Set.of(
          "connection",
          "keep-alive",
          "proxy-connection",
          "proxy-authenticate",
          "proxy-authorization",
          "te",
          "trailer",
          "transfer-encoding",
          "upgrade",
          "host",
          "content-length",
          // Keeps responses uncompressed, so that what is validated is what the platform wrote.
          "accept-encoding");

  /** Lines of a Java stack trace, or an exception's class name, in an error body. */
  private static final Pattern STACK_TRACE =
      Pattern.compile(
          "(\\bat [\\w$.]+\\([\\w$]+\\.java:\\d+\\))|(\\b(java|javax|jakarta|org\\.springframework|reactor|io\\.netty|dev\\.airlock)\\.[\\w$.]*(Exception|Error)\\b)");

  private final OpenApiInteractionValidator validator;
  private final SchemaValidator schemaValidator;
  private final Schema<?> problemSchema;
  private final JsonMapper json = JsonMapper.builder().build();
  private final HttpClient upstream;
  private final DisposableServer server;
  private final Queue<Violation> violations = new ConcurrentLinkedQueue<>();
  private final AtomicLong exchanges = new AtomicLong();

  private ValidatingProxy(Path spec, URI upstreamBase) {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    OpenAPI api = new OpenAPIV3Parser().read(spec.toString(), null, options);
    if (api == null) {
      throw new IllegalStateException("Cannot parse the API contract " + spec);
    }
    this.problemSchema = api.getComponents().getSchemas().get("Problem");
    if (problemSchema == null) {
      throw new IllegalStateException(spec + " defines no components.schemas.Problem");
    }
    this.validator =
        OpenApiInteractionValidator.createForSpecificationUrl(spec.toUri().toString())
            // Merges allOf parts before validating: the validator is strict about properties a
            // schema does not name, and would otherwise hold each part against the others'.
            .withResolveCombinators(true)
            .withLevelResolver(
                LevelResolver.create()
                    // Requests are deliberately invalid in places; only responses are judged.
                    .withLevel("validation.request", ValidationReport.Level.IGNORE)
                    .build())
            .build();
    this.schemaValidator = new SchemaValidator(api, new MessageResolver());
    this.upstream =
        HttpClient.create()
            .baseUrl(upstreamBase.toString())
            .followRedirect(false)
            .compress(false)
            .responseTimeout(UPSTREAM_TIMEOUT);
    this.server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(this::proxy)
            .bindNow(Duration.ofSeconds(10));
  }

  /**
   * Starts a proxy on a free loopback port in front of {@code upstreamBase}.
   *
   * @param spec the OpenAPI document responses are validated against
   */
  public static ValidatingProxy start(Path spec, URI upstreamBase) {
    return new ValidatingProxy(spec, upstreamBase);
  }

  /** The proxy's base URL, which the SDKs are given as the platform's. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.port();
  }

  /** How many request/response pairs have passed through. */
  public long exchanges() {
    return exchanges.get();
  }

  /** Returns and forgets the violations recorded so far. */
  public List<Violation> drainViolations() {
    List<Violation> drained = new ArrayList<>();
    for (Violation v = violations.poll(); v != null; v = violations.poll()) {
      drained.add(v);
    }
    return drained;
  }

  private Mono<Void> proxy(HttpServerRequest request, HttpServerResponse response) {
    String method = request.method().name();
    String uri = request.uri();
    return request
        .receive()
        .aggregate()
        .asByteArray()
        .defaultIfEmpty(NO_BODY)
        .flatMap(body -> forward(request, body))
        .flatMap(
            answer -> {
              exchanges.incrementAndGet();
              validate(method, uri, answer);
              return reply(response, answer);
            })
        .onErrorResume(
            failure -> {
              violations.add(
                  new Violation(
                      method,
                      uri,
                      502,
                      List.of("the proxy got no response from the platform: " + failure),
                      ""));
              return response.status(HttpResponseStatus.BAD_GATEWAY).send();
            });
  }

  private Mono<Answer> forward(HttpServerRequest request, byte[] body) {
    HttpHeaders incoming = request.requestHeaders();
    boolean hadBody =
        body.length > 0
            || incoming.contains(HttpHeaderNames.CONTENT_LENGTH)
            || incoming.contains(HttpHeaderNames.TRANSFER_ENCODING);
    return upstream
        .headers(
            headers -> {
              incoming.forEach(
                  header -> {
                    if (!NOT_FORWARDED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                      headers.add(header.getKey(), header.getValue());
                    }
                  });
              if (hadBody) {
                headers.set(HttpHeaderNames.CONTENT_LENGTH, body.length);
              }
            })
        .request(HttpMethod.valueOf(request.method().name()))
        .uri(request.uri())
        .send((req, out) -> body.length == 0 ? out : out.sendByteArray(Mono.just(body)))
        .responseSingle(
            (upstreamResponse, content) ->
                content
                    .asByteArray()
                    .defaultIfEmpty(NO_BODY)
                    .map(
                        bytes ->
                            new Answer(
                                upstreamResponse.status().code(),
                                upstreamResponse.responseHeaders().copy(),
                                bytes)));
  }

  private Mono<Void> reply(HttpServerResponse response, Answer answer) {
    response.status(HttpResponseStatus.valueOf(answer.status()));
    answer
        .headers()
        .forEach(
            header -> {
              if (!NOT_FORWARDED.contains(header.getKey().toLowerCase(Locale.ROOT))) {
                response.addHeader(header.getKey(), header.getValue());
              }
            });
    response.header(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(answer.body().length));
    return answer.body().length == 0
        ? response.send()
        : response.sendByteArray(Mono.just(answer.body())).then();
  }

  private void validate(String method, String uri, Answer answer) {
    String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
    List<String> problems = new ArrayList<>();
    Request.Method validatorMethod;
    try {
      validatorMethod = Request.Method.valueOf(method);
    } catch (IllegalArgumentException unknownMethod) {
      validatorMethod = null;
    }
    ValidationReport report =
        validatorMethod == null
            ? null
            : validator.validateResponse(path, validatorMethod, toValidatorResponse(answer));
    boolean describedBySpec =
        report != null
            && report.getMessages().stream()
                .noneMatch(m -> UNKNOWN_ROUTE_KEYS.contains(m.getKey()));
    if (describedBySpec) {
      report.getMessages().stream()
          .filter(m -> m.getLevel() == ValidationReport.Level.ERROR)
          .map(ValidatingProxy::describe)
          .forEach(problems::add);
    } else {
      problems.addAll(validateAsProblemOfUnknownRoute(answer));
    }
    if (answer.status() >= 400) {
      problems.addAll(checkErrorBody(answer));
    }
    if (!problems.isEmpty()) {
      violations.add(
          new Violation(
              method,
              uri,
              answer.status(),
              problems,
              new String(answer.body(), StandardCharsets.UTF_8)));
    }
  }

  private static SimpleResponse toValidatorResponse(Answer answer) {
    SimpleResponse.Builder builder = SimpleResponse.Builder.status(answer.status());
    Map<String, List<String>> grouped =
        answer.headers().entries().stream()
            .collect(
                Collectors.groupingBy(
                    Map.Entry::getKey,
                    Collectors.mapping(Map.Entry::getValue, Collectors.toList())));
    grouped.forEach(builder::withHeader);
    if (answer.body().length > 0) {
      builder.withBody(answer.body());
    }
    return builder.build();
  }

  private List<String> validateAsProblemOfUnknownRoute(Answer answer) {
    List<String> problems = new ArrayList<>();
    if (answer.status() < 400) {
      problems.add(
          "the spec describes no such operation, yet the platform answered "
              + answer.status()
              + " (expected: a 404 route-not-found or 405 method-not-allowed problem)");
      return problems;
    }
    String contentType = answer.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith(PROBLEM_JSON)) {
      problems.add(
          "Content-Type " + contentType + " for an unknown route (expected: " + PROBLEM_JSON + ")");
      return problems;
    }
    ValidationReport report =
        schemaValidator.validate(
            new String(answer.body(), StandardCharsets.UTF_8),
            problemSchema,
            "validation.response.body");
    report.getMessages().stream()
        .filter(m -> m.getLevel() == ValidationReport.Level.ERROR)
        .map(m -> "unknown route, problem document: " + describe(m))
        .forEach(problems::add);
    return problems;
  }

  private List<String> checkErrorBody(Answer answer) {
    List<String> problems = new ArrayList<>();
    String body = new String(answer.body(), StandardCharsets.UTF_8);
    if (STACK_TRACE.matcher(body).find()) {
      problems.add("the error body shows a stack trace or an exception class name");
    }
    String contentType = answer.headers().get(HttpHeaderNames.CONTENT_TYPE);
    if (contentType != null && contentType.toLowerCase(Locale.ROOT).startsWith(PROBLEM_JSON)) {
      try {
        JsonNode status = json.readTree(answer.body()).path("status");
        if (status.isInt() && status.intValue() != answer.status()) {
          problems.add(
              "the problem's status "
                  + status.intValue()
                  + " differs from the HTTP status "
                  + answer.status());
        }
      } catch (JacksonException notJson) {
        // The schema validation above has already reported the body.
      }
    }
    return problems;
  }

  private static String describe(ValidationReport.Message message) {
    StringBuilder text =
        new StringBuilder("[").append(message.getKey()).append("] ").append(message.getMessage());
    for (ValidationReport.Message nested : message.getNestedMessages()) {
      text.append("\n      ").append(describe(nested).replace("\n", "\n  "));
    }
    return text.toString();
  }

  @Override
  public void close() {
    server.disposeNow(Duration.ofSeconds(10));
  }
}
