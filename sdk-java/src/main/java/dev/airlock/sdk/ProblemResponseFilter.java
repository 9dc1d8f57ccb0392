package dev.airlock.sdk;

import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.ExchangeFunction;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns every non-2xx response into an {@link AirlockProblemException}, after reading (and so
 * releasing) its body; 2xx responses pass through untouched.
 */
final class ProblemResponseFilter implements ExchangeFilterFunction {

  private static final byte[] NO_BODY = new byte[0];

  private final JsonMapper mapper;

  ProblemResponseFilter(JsonMapper mapper) {
    this.mapper = mapper;
  }

  @Override
  public Mono<ClientResponse> filter(ClientRequest request, ExchangeFunction next) {
    return next.exchange(request)
        .flatMap(
            response -> {
              if (response.statusCode().is2xxSuccessful()) {
                return Mono.just(response);
              }
              return response
                  .bodyToMono(byte[].class)
                  .defaultIfEmpty(NO_BODY)
                  .flatMap(
                      body ->
                          Mono.error(
                              AirlockProblemException.of(
                                  request.method(),
                                  request.url(),
                                  response.statusCode(),
                                  response.headers().asHttpHeaders(),
                                  body,
                                  mapper)));
            });
  }
}
