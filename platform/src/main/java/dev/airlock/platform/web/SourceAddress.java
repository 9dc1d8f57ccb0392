package dev.airlock.platform.web;

import java.net.InetSocketAddress;
import org.springframework.web.server.ServerWebExchange;

/** The network address a request came from, as the audit log records it. */
public final class SourceAddress {

  private SourceAddress() {}

  /** The peer's IP address, or null when unknown. */
  public static String of(ServerWebExchange exchange) {
    InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
    if (remote == null) {
      return null;
    }
    return remote.getAddress() == null
        ? remote.getHostString()
        : remote.getAddress().getHostAddress();
  }
}
