package dev.airlock.platform.web;

import java.util.List;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Errors are always problem documents, whatever the client accepts. A client that sends {@code
 * Accept: application/json} to an operation whose only body is an error (one answering 204 on
 * success) would otherwise be refused with 406 before the operation runs.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class ProblemAcceptFilter implements WebFilter {

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    List<MediaType> accepted = exchange.getRequest().getHeaders().getAccept();
    if (accepted.isEmpty()
        || accepted.stream().anyMatch(type -> type.includes(MediaType.APPLICATION_PROBLEM_JSON))) {
      return chain.filter(exchange);
    }
    String accept =
        exchange.getRequest().getHeaders().getFirst(HttpHeaders.ACCEPT)
            + ", "
            + MediaType.APPLICATION_PROBLEM_JSON_VALUE
            + ";q=0.1";
    return chain.filter(
        exchange
            .mutate()
            .request(request -> request.headers(headers -> headers.set(HttpHeaders.ACCEPT, accept)))
            .build());
  }
}
