package dev.airlock.platform.problem;

import dev.airlock.platform.api.model.FieldError;
import dev.airlock.platform.api.model.Problem;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.support.WebExchangeBindException;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
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
 * Turns every error on the request path into a problem document with a stable type. Unexpected
 * errors are logged with their stack trace under an id, and the caller sees only that id.
 */
@Component
@Order(-2)
public class ProblemExceptionHandler implements WebExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ProblemExceptionHandler.class);
  private static final MediaType PROBLEM_JSON = MediaType.APPLICATION_PROBLEM_JSON;

  private final JsonMapper json;

  public ProblemExceptionHandler(JsonMapper json) {
    this.json = json;
  }

  @Override
  public Mono<Void> handle(ServerWebExchange exchange, Throwable error) {
    if (exchange.getResponse().isCommitted()) {
      return Mono.error(error);
    }
    ApiProblem problem = toProblem(exchange, error);
    Problem body =
        new Problem(problem.type().uri(), problem.type().title(), problem.type().status().value())
            .detail(problem.getMessage());
    if (!problem.errors().isEmpty()) {
      body.errors(problem.errors());
    }
    if (problem.instance() != null) {
      body.instance(problem.instance());
    }
    var response = exchange.getResponse();
    response.setStatusCode(problem.type().status());
    response.getHeaders().setContentType(PROBLEM_JSON);
    response.getHeaders().remove(HttpHeaders.CONTENT_LENGTH);
    problem.headers().forEach((name, value) -> response.getHeaders().set(name, value));
    byte[] bytes = json.writeValueAsBytes(body);
    return response.writeWith(Mono.fromSupplier(() -> response.bufferFactory().wrap(bytes)));
  }

  private ApiProblem toProblem(ServerWebExchange exchange, Throwable error) {
    if (error instanceof ApiProblem problem) {
      return problem;
    }
    if (hasCause(error, DataBufferLimitException.class)) {
      return new ApiProblem(
          ProblemType.PAYLOAD_TOO_LARGE, "The body is larger than the limit of 64 KiB");
    }
    if (error instanceof WebExchangeBindException bind) {
      List<FieldError> errors = new ArrayList<>();
      bind.getFieldErrors()
          .forEach(
              e -> errors.add(new FieldError(e.getField(), String.valueOf(e.getDefaultMessage()))));
      bind.getGlobalErrors()
          .forEach(
              e ->
                  errors.add(
                      new FieldError(e.getObjectName(), String.valueOf(e.getDefaultMessage()))));
      return validation(errors);
    }
    if (error instanceof HandlerMethodValidationException validation) {
      List<FieldError> errors = new ArrayList<>();
      validation
          .getParameterValidationResults()
          .forEach(
              result ->
                  result
                      .getResolvableErrors()
                      .forEach(
                          e ->
                              errors.add(
                                  new FieldError(
                                      parameterName(result.getMethodParameter().getParameterName()),
                                      String.valueOf(e.getDefaultMessage())))));
      return validation(errors);
    }
    if (error instanceof ConstraintViolationException violations) {
      List<FieldError> errors = new ArrayList<>();
      for (ConstraintViolation<?> violation : violations.getConstraintViolations()) {
        String field = null;
        for (Path.Node node : violation.getPropertyPath()) {
          field = node.getName();
        }
        errors.add(new FieldError(parameterName(field), violation.getMessage()));
      }
      return validation(errors);
    }
    if (error instanceof UnsupportedMediaTypeStatusException) {
      return new ApiProblem(
          ProblemType.UNSUPPORTED_MEDIA_TYPE,
          "The body must be application/json, not "
              + exchange.getRequest().getHeaders().getContentType());
    }
    if (error instanceof NotAcceptableStatusException) {
      return new ApiProblem(
          ProblemType.NOT_ACCEPTABLE,
          "This operation cannot answer in any type the request accepts (Accept: "
              + exchange.getRequest().getHeaders().getFirst(HttpHeaders.ACCEPT)
              + "; expected: application/json)");
    }
    if (error instanceof MethodNotAllowedException notAllowed) {
      return new ApiProblem(
          ProblemType.METHOD_NOT_ALLOWED,
          exchange.getRequest().getMethod()
              + " is not allowed here (expected: "
              + notAllowed.getSupportedMethods()
              + ")",
          List.of(),
          Map.of(
              HttpHeaders.ALLOW,
              String.join(
                  ", ", notAllowed.getSupportedMethods().stream().map(Object::toString).toList())));
    }
    if (error instanceof ServerWebInputException input) {
      return inputProblem(input);
    }
    if (error instanceof ResponseStatusException status) {
      HttpStatus code = HttpStatus.resolve(status.getStatusCode().value());
      if (code == HttpStatus.NOT_FOUND) {
        return new ApiProblem(
            ProblemType.ROUTE_NOT_FOUND,
            "No operation at " + exchange.getRequest().getPath().value());
      }
      if (code != null && code.is4xxClientError()) {
        return new ApiProblem(ProblemType.MALFORMED_REQUEST, status.getReason());
      }
    }
    if (error instanceof DataAccessResourceFailureException
        || error instanceof TransientDataAccessException
        || hasCause(error, R2dbcTransientResourceException.class)
        || hasCause(error, R2dbcNonTransientResourceException.class)
        || hasCause(error, TimeoutException.class)) {
      log.warn("Database unavailable: {}", error.toString());
      return new ApiProblem(
          ProblemType.UNAVAILABLE,
          "The database is unavailable; retry later",
          List.of(),
          Map.of(HttpHeaders.RETRY_AFTER, "5"));
    }
    String id = UUID.randomUUID().toString();
    log.error(
        "Unexpected error {} on {} {}",
        id,
        exchange.getRequest().getMethod(),
        exchange.getRequest().getPath(),
        error);
    return new ApiProblem(
            ProblemType.INTERNAL, "An unexpected error; the server log has its details under " + id)
        .instance("urn:uuid:" + id);
  }

  private static ApiProblem inputProblem(ServerWebInputException input) {
    Throwable cause = input;
    while (cause != null) {
      if (cause instanceof UnrecognizedPropertyException unknown) {
        return new ApiProblem(
            ProblemType.UNKNOWN_PROPERTY,
            "Unknown property '"
                + unknown.getPropertyName()
                + "' (expected one of: "
                + unknown.getKnownPropertyIds()
                + ")",
            List.of(new FieldError(path(unknown), "unknown property")),
            Map.of());
      }
      if (cause instanceof DatabindException databind) {
        String field = path(databind);
        String expected =
            databind instanceof MismatchedInputException mismatch
                ? expectedJson(mismatch.getTargetType())
                : "a valid value";
        String message = "wrong JSON type or value (expected: " + expected + ")";
        return new ApiProblem(
            ProblemType.MALFORMED_REQUEST,
            (field.isEmpty() ? "The body" : field) + ": " + message,
            field.isEmpty() ? List.of() : List.of(new FieldError(field, message)),
            Map.of());
      }
      if (cause instanceof JacksonException) {
        return new ApiProblem(
            ProblemType.MALFORMED_REQUEST, "The body is not valid JSON (expected: a JSON object)");
      }
      if (cause instanceof IllegalArgumentException && cause != input) {
        break;
      }
      cause = cause.getCause();
    }
    String reason = input.getReason() == null ? "Malformed request" : input.getReason();
    if (input.getMethodParameter() != null
        && input.getMethodParameter().getParameterName() != null) {
      String name = parameterName(input.getMethodParameter().getParameterName());
      return new ApiProblem(
          ProblemType.VALIDATION,
          name + ": " + reason,
          List.of(new FieldError(name, reason)),
          Map.of());
    }
    return new ApiProblem(ProblemType.MALFORMED_REQUEST, reason);
  }

  /** How a Java target type looks in JSON, for error messages that never name Java types. */
  private static String expectedJson(Class<?> type) {
    if (type == null) {
      return "a valid value";
    }
    if (CharSequence.class.isAssignableFrom(type) || type == java.util.UUID.class) {
      return "a string";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (Number.class.isAssignableFrom(type) || (type.isPrimitive() && type != boolean.class)) {
      return "a number";
    }
    if (type.isEnum()) {
      return "one of " + Arrays.stream(type.getEnumConstants()).map(String::valueOf).toList();
    }
    if (java.util.Collection.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    if (java.time.temporal.Temporal.class.isAssignableFrom(type)) {
      return "an RFC 3339 date-time string";
    }
    return "an object";
  }

  private static ApiProblem validation(List<FieldError> errors) {
    return ApiProblem.validation(errors);
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

  private static String parameterName(String name) {
    return name == null ? "parameter" : name;
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
