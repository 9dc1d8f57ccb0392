package dev.airlock.signal.socket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Every open socket of this node, authenticated or not: for the health counts and shutdown. */
@Component
public class LiveSockets {

  private final Set<PeerSocket> sockets = ConcurrentHashMap.newKeySet();

  /** Tracks {@code socket} until it is gone. */
  public void add(PeerSocket socket) {
    sockets.add(socket);
    socket.whenGone().doFinally(signal -> sockets.remove(socket)).subscribe();
  }

  /** How many sockets of {@code kind} are open. */
  public int count(PeerSocket.Kind kind) {
    return (int) sockets.stream().filter(socket -> socket.kind() == kind).count();
  }

  /** Closes every socket; completes when they are all gone. */
  public Mono<Void> closeAll(int code, String reason) {
    return Flux.fromIterable(Set.copyOf(sockets))
        .doOnNext(socket -> socket.close(code, reason))
        .flatMap(PeerSocket::whenGone)
        .then();
  }
}
