package dev.airlock.signal.tunnel;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The streams this node waits for: each {@code tunnel.open} carries a fresh ticket (128 random
 * bits), and the agent's HTTP/2 stream must present it within the timeout, once. A ticket is the
 * only thing that lets a stream in, so the tunnel connection needs no credential of its own: the
 * ticket went to the agent over its authenticated signalling socket.
 */
@Component
public class TunnelTickets {

  private static final SecureRandom RANDOM = new SecureRandom();

  private record Waiting(TunnelStream stream, Disposable timer) {}

  private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();

  /**
   * Issues the ticket for {@code stream}.
   *
   * @param onTimeout called if no stream presented the ticket within {@code timeout}
   */
  public String issue(TunnelStream stream, Duration timeout, Consumer<TunnelStream> onTimeout) {
    byte[] bytes = new byte[16];
    RANDOM.nextBytes(bytes);
    String ticket = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    Disposable timer =
        Mono.delay(timeout)
            .subscribe(
                tick -> {
                  Waiting expired = waiting.remove(ticket);
                  if (expired != null) {
                    onTimeout.accept(expired.stream());
                  }
                });
    waiting.put(ticket, new Waiting(stream, timer));
    // A session that ends first (the client left) needs no stream.
    stream.session().whenEnded(() -> cancel(ticket));
    return ticket;
  }

  /**
   * The stream waiting for {@code ticket}, which is spent; null if unknown, used, expired, or not
   * {@code presentable} where it was presented (it then stays good for where it is).
   */
  public TunnelStream redeem(String ticket, Predicate<TunnelStream> presentable) {
    if (ticket == null) {
      return null;
    }
    Waiting found = waiting.get(ticket);
    if (found == null || !presentable.test(found.stream()) || !waiting.remove(ticket, found)) {
      return null;
    }
    found.timer().dispose();
    return found.stream();
  }

  /** How many streams are awaited. */
  public int size() {
    return waiting.size();
  }

  private void cancel(String ticket) {
    Waiting gone = waiting.remove(ticket);
    if (gone != null) {
      gone.timer().dispose();
    }
  }
}
