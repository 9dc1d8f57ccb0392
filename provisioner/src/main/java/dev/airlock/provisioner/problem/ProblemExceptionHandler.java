package dev.airlock.provisioner.problem;

import dev.airlock.provisioner.api.model.IsolationProfile;
import dev.airlock.provisioner.api.model.Problem;
import dev.airlock.provisioner.api.model.ProblemErrorsInner;
import dev.airlock.provisioner.engine.EngineUnavailableException;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.MethodNotAllowedException;
import org.springframework.web.server.NotAcceptableStatusException;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.ServerWebInputException;
import org.springframework.web.server.UnsupportedMediaTypeStatusException;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns every error on the request path into a problem document whose {@code type} is one of the
 * contract's. The caller never sees a stack trace: an unexpected error is logged under an id and
 * the caller gets that id. Request bodies are never logged (they hold the join token).
 */
@Component
@Order(-2)
public class ProblemExceptionHandler implements WebExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ProblemExceptionHandler.class);

  private final JsonMapper json;

  public ProblemExceptionHandler(JsonMapper json) {
    this.json = json;
  }

  @Override
  public Mono<Void> handle(ServerWebExchange exchange, Throwable error) {
    ServerHttpResponse response = exchange.getResponse();
    if (response.isCommitted()) {
      return Mono.error(error);
    }
    ApiProblem problem = toProblem(exchange, error);
    Problem body =
        new Problem(problem.type().uri(), problem.type().title(), problem.status())
            .detail(problem.getMessage());
    // The generated model starts with an empty list; absent reads better than [].
    body.errors(problem.errors().isEmpty() ? null : problem.errors());
    response.setStatusCode(HttpStatus.valueOf(problem.status()));
    response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    response.getHeaders().remove(HttpHeaders.CONTENT_LENGTH);
    if (problem.type() == ProblemType.ENGINE_UNAVAILABLE) {
      response.getHeaders().set(HttpHeaders.RETRY_AFTER, "5");
    }
    if (error instanceof MethodNotAllowedException notAllowed) {
      response.getHeaders().setAllow(notAllowed.getSupportedMethods());
    }
    byte[] bytes = json.writeValueAsBytes(body);
    return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(bytes)));
  }

  private ApiProblem toProblem(ServerWebExchange exchange, Throwable error) {
    if (error instanceof ApiProblem problem) {
      return problem;
    }
    if (error instanceof EngineUnavailableException unavailable) {
      log.warn("{}", unavailable.getMessage());
      return new ApiProblem(ProblemType.ENGINE_UNAVAILABLE, unavailable.getMessage());
    }
    if (hasCause(error, DataBufferLimitException.class)) {
      return new ApiProblem(
          ProblemType.MALFORMED_REQUEST,
          "The body is larger than the limit of 1 MiB",
          List.of(),
          HttpStatus.CONTENT_TOO_LARGE.value());
    }
    if (error instanceof UnsupportedMediaTypeStatusException) {
      return new ApiProblem(
          ProblemType.MALFORMED_REQUEST,
          "The body must be application/json, not "
              + exchange.getRequest().getHeaders().getContentType(),
          List.of(),
          HttpStatus.UNSUPPORTED_MEDIA_TYPE.value());
    }
    if (error instanceof NotAcceptableStatusException) {
      return new ApiProblem(
          ProblemType.MALFORMED_REQUEST,
          "This operation answers application/json or application/problem+json, not "
              + exchange.getRequest().getHeaders().getFirst(HttpHeaders.ACCEPT),
          List.of(),
          HttpStatus.NOT_ACCEPTABLE.value());
    }
    if (error instanceof MethodNotAllowedException notAllowed) {
      return new ApiProblem(
          ProblemType.MALFORMED_REQUEST,
          exchange.getRequest().getMethod()
              + " is not allowed on "
              + exchange.getRequest().getPath().value()
              + " (expected: "
              + notAllowed.getSupportedMethods()
              + ")",
          List.of(),
          HttpStatus.METHOD_NOT_ALLOWED.value());
    }
    if (error instanceof ServerWebInputException input) {
      return inputProblem(input);
    }
    if (error instanceof ResponseStatusException status) {
      if (status.getStatusCode().value() == HttpStatus.NOT_FOUND.value()) {
        return new ApiProblem(
            ProblemType.NOT_FOUND,
            "No operation at "
                + exchange.getRequest().getPath().value()
                + " (expected: /provisioner/v1/containers[/{key}] or /provisioner/v1/capacity)");
      }
      if (status.getStatusCode().is4xxClientError()) {
        return new ApiProblem(
            ProblemType.MALFORMED_REQUEST,
            String.valueOf(status.getReason()),
            List.of(),
            status.getStatusCode().value());
      }
    }
    String id = UUID.randomUUID().toString();
    // The exception, not the request: nothing here holds the body.
    log.error(
        "Unexpected error {} on {} {}",
        id,
        exchange.getRequest().getMethod(),
        exchange.getRequest().getPath(),
        error);
    return new ApiProblem(
        ProblemType.INTERNAL, "An unexpected error; the provisioner's log has it under " + id);
  }

  private static ApiProblem inputProblem(ServerWebInputException input) {
    for (Throwable cause = input; cause != null; cause = cause.getCause()) {
      if (cause instanceof UnrecognizedPropertyException unknown) {
        String field = path(unknown);
        return new ApiProblem(
            ProblemType.MALFORMED_REQUEST,
            field
                + ": unknown property (expected one of: "
                + unknown.getKnownPropertyIds()
                + "); the provisioner decides every other container setting itself",
            List.of(new ProblemErrorsInner(field, "unknown property")),
            null);
      }
      if (cause instanceof DatabindException databind) {
        String field = path(databind);
        if (field.equals("profile")) {
          String expected =
              Arrays.stream(IsolationProfile.values()).map(String::valueOf).toList().toString();
          return new ApiProblem(
              ProblemType.UNKNOWN_PROFILE,
              "profile: not a profile this provisioner knows (expected one of: " + expected + ")",
              List.of(new ProblemErrorsInner("profile", "expected one of: " + expected)),
              null);
        }
        String expected =
            databind instanceof MismatchedInputException mismatch
                ? expectedJson(mismatch.getTargetType())
                : "a valid value";
        String message = "wrong JSON type or value (expected: " + expected + ")";
        return new ApiProblem(
            ProblemType.MALFORMED_REQUEST,
            (field.isEmpty() ? "The body" : field) + ": " + message,
            field.isEmpty() ? List.of() : List.of(new ProblemErrorsInner(field, message)),
            null);
      }
      if (cause instanceof JacksonException) {
        // Jackson's own message may quote a piece of the body: of the environment, perhaps.
        return new ApiProblem(
            ProblemType.MALFORMED_REQUEST, "The body is not valid JSON (expected: a JSON object)");
      }
    }
    String reason = input.getReason() == null ? "Malformed request" : input.getReason();
    return new ApiProblem(ProblemType.MALFORMED_REQUEST, reason + " (expected: a JSON object)");
  }

  /** How a Java type looks in JSON, for messages that never name Java types. */
  private static String expectedJson(Class<?> type) {
    if (type == null) {
      return "a valid value";
    }
    if (CharSequence.class.isAssignableFrom(type)) {
      return "a string";
    }
    if (Number.class.isAssignableFrom(type) || (type.isPrimitive() && type != boolean.class)) {
      return "an integer";
    }
    if (type.isEnum()) {
      return "one of " + Arrays.stream(type.getEnumConstants()).map(String::valueOf).toList();
    }
    if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return "an object";
  }

  private static String path(DatabindException e) {
    StringBuilder path = new StringBuilder();
    for (var ref : e.getPath()) {
      if (ref.getPropertyName() != null) {
        if (!path.isEmpty()) {
          path.append('.');
        }
        path.append(ref.getPropertyName());
      } else if (ref.getIndex() >= 0) {
        path.append('[').append(ref.getIndex()).append(']');
      }
    }
    return path.toString();
  }

  private static boolean hasCause(Throwable error, Class<? extends Throwable> type) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
