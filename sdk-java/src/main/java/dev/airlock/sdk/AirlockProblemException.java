package dev.airlock.sdk;

import dev.airlock.sdk.model.FieldError;
import dev.airlock.sdk.model.Problem;
import java.net.URI;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpRequest;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * A non-2xx answer from the Airlock platform, carrying its RFC 7807 problem document.
 *
 * <p>Every call made through an {@link AirlockClient} (the generated APIs included) fails with this
 * exception whenever the response status is not 2xx. {@link #problemType()} is the stable URN to
 * branch on ({@code urn:airlock:problem:forbidden}, {@code …:unauthenticated}, …; the list is
 * {@code x-airlock-problem-types} in the API contract); {@link #title()} and {@link #detail()} are
 * for people. When the body is not a problem document (a proxy's HTML error page, say) the
 * exception still carries the HTTP status, with type {@value #ABOUT_BLANK} and the reason phrase as
 * title, as RFC 7807 prescribes for a problem without a type.
 *
 * <p>It extends {@link WebClientResponseException}, so the response headers ({@code
 * WWW-Authenticate}, {@code Retry-After}) and raw body stay available, and code written against the
 * generated clients' documented exception keeps working.
 */
public class AirlockProblemException extends WebClientResponseException {

  private static final long serialVersionUID = 1L;

  /** The problem type of a response that carried no problem document. */
  public static final String ABOUT_BLANK = "about:blank";

  private static final int MAX_DETAIL_FROM_BODY = 300;
  private static final MediaType PROBLEM_JSON = MediaType.APPLICATION_PROBLEM_JSON;

  private final transient Problem problem;
  private final boolean problemDocument;

  private AirlockProblemException(
      String message,
      HttpStatusCode status,
      String statusText,
      HttpHeaders headers,
      byte[] body,
      Charset charset,
      HttpRequest request,
      Problem problem,
      boolean problemDocument) {
    super(message, status, statusText, headers, body, charset, request);
    this.problem = problem;
    this.problemDocument = problemDocument;
  }

  /**
   * Builds the exception for one response.
   *
   * @param method and {@code uri} name the request, for the message
   * @param status the response status (not 2xx)
   * @param headers the response headers
   * @param body the response body, possibly empty
   * @param mapper reads the body when it is JSON
   */
  static AirlockProblemException of(
      HttpMethod method,
      URI uri,
      HttpStatusCode status,
      HttpHeaders headers,
      byte[] body,
      JsonMapper mapper) {
    String reason = reasonPhrase(status);
    MediaType contentType = headers.getContentType();
    Charset charset =
        contentType != null && contentType.getCharset() != null
            ? contentType.getCharset()
            : StandardCharsets.UTF_8;
    Problem parsed = readProblem(contentType, body, mapper);
    boolean isDocument = parsed != null;
    Problem problem =
        isDocument
            ? parsed
            : new Problem()
                .type(ABOUT_BLANK)
                .title(reason)
                .status(status.value())
                .detail(bodyExcerpt(body, charset));
    String message =
        status.value()
            + " "
            + problem.getType()
            + ": "
            + problem.getTitle()
            + (problem.getDetail() == null ? "" : " (" + problem.getDetail() + ")")
            + " from "
            + method
            + " "
            + uri;
    HttpHeaders responseHeaders = HttpHeaders.readOnlyHttpHeaders(headers);
    AirlockProblemException exception =
        new AirlockProblemException(
            message,
            status,
            reason,
            responseHeaders,
            body,
            charset,
            new RequestLine(method, uri),
            problem,
            isDocument);
    // Lets callers read a non-problem body as its documented type, e.g. a 503 health report.
    exception.setBodyDecodeFunction(
        type -> mapper.readValue(body, mapper.constructType(type.getType())));
    return exception;
  }

  /** The problem type, a stable URN such as {@code urn:airlock:problem:forbidden}. */
  public String problemType() {
    return problem.getType();
  }

  /** A short, stable summary of the problem type. */
  public String title() {
    return problem.getTitle();
  }

  /** The HTTP status of the response. */
  public int status() {
    return getStatusCode().value();
  }

  /** What was wrong and what was expected, or {@code null} when the platform gave no detail. */
  public String detail() {
    return problem.getDetail();
  }

  /** The identifier of this occurrence in the platform's log, or {@code null}. */
  public String instance() {
    return problem.getInstance();
  }

  /** One entry per invalid field, for validation problems; empty otherwise, never {@code null}. */
  public List<FieldError> fieldErrors() {
    List<FieldError> errors = problem.getErrors();
    return errors == null ? List.of() : List.copyOf(errors);
  }

  /** The problem document as received, or as synthesised when the body was not one. */
  public Problem problem() {
    return problem;
  }

  /**
   * Whether the response body was a problem document (otherwise the type is {@value #ABOUT_BLANK}).
   */
  public boolean isProblemDocument() {
    return problemDocument;
  }

  /**
   * The delay from the {@code Retry-After} header (in seconds, as Airlock sends it), when present,
   * e.g. on {@code urn:airlock:problem:account-locked}.
   */
  public Optional<Duration> retryAfter() {
    String value = getHeaders().getFirst(HttpHeaders.RETRY_AFTER);
    if (value == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Duration.ofSeconds(Long.parseLong(value.trim())));
    } catch (NumberFormatException notSeconds) {
      return Optional.empty();
    }
  }

  private static Problem readProblem(MediaType contentType, byte[] body, JsonMapper mapper) {
    if (body.length == 0 || contentType == null) {
      return null;
    }
    if (!PROBLEM_JSON.isCompatibleWith(contentType)
        && !MediaType.APPLICATION_JSON.isCompatibleWith(contentType)) {
      return null;
    }
    try {
      Problem problem = mapper.readValue(body, Problem.class);
      return problem != null && problem.getType() != null && problem.getTitle() != null
          ? problem
          : null;
    } catch (JacksonException notAProblem) {
      return null;
    }
  }

  private static String reasonPhrase(HttpStatusCode status) {
    org.springframework.http.HttpStatus known =
        org.springframework.http.HttpStatus.resolve(status.value());
    return known != null ? known.getReasonPhrase() : "HTTP " + status.value();
  }

  private static String bodyExcerpt(byte[] body, Charset charset) {
    if (body.length == 0) {
      return null;
    }
    String text = new String(body, charset).strip();
    return text.length() <= MAX_DETAIL_FROM_BODY
        ? text
        : text.substring(0, MAX_DETAIL_FROM_BODY) + "…";
  }

  /** The method and URI of the failed request; no headers, so credentials never leak. */
  private record RequestLine(HttpMethod method, URI uri) implements HttpRequest {

    @Override
    public HttpMethod getMethod() {
      return method;
    }

    @Override
    public URI getURI() {
      return uri;
    }

    @Override
    public Map<String, Object> getAttributes() {
      return Map.of();
    }

    @Override
    public HttpHeaders getHeaders() {
      return HttpHeaders.EMPTY;
    }
  }
}
