package dev.airlock.cli;

import dev.airlock.sdk.tunnel.TunnelStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * A local TCP listener for {@code airlock proxy app|tcp}: every connection it accepts gets a tunnel
 * stream of its own, and the bytes are copied both ways until either side ends. A connection whose
 * tunnel cannot be opened, or breaks, is closed and reported in one line; the listener goes on.
 *
 * <p>Each connection has its own threads (blocking socket I/O is simplest here, and a stalled
 * connection then holds up nothing else); {@link #run()} accepts on the calling thread until the
 * listener is closed or that thread is interrupted.
 */
final class TunnelListener implements AutoCloseable {

  private static final long CLOSE_LIMIT_SECONDS = 5;
  private static final Duration CLOSE_LIMIT = Duration.ofSeconds(CLOSE_LIMIT_SECONDS);

  /** Opens the tunnel for one connection; called on that connection's thread, may block. */
  interface Opener {
    TunnelStream open();
  }

  private final ServerSocketChannel server;
  private final Opener opener;
  private final Consumer<String> problems;
  private final Function<Throwable, String> describe;
  private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
  private final Set<TunnelStream> streams = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();
  private final AtomicBoolean closed = new AtomicBoolean();

  private TunnelListener(
      ServerSocketChannel server,
      Opener opener,
      Consumer<String> problems,
      Function<Throwable, String> describe) {
    this.server = server;
    this.opener = opener;
    this.problems = problems;
    this.describe = describe;
  }

  /**
   * Listens on {@code address} (port 0: any free port).
   *
   * @param problems receives one line per connection that failed
   * @param describe says what a failure was, in a line
   * @throws IOException when the address cannot be listened on (in use, not local)
   */
  static TunnelListener bind(
      InetSocketAddress address,
      Opener opener,
      Consumer<String> problems,
      Function<Throwable, String> describe)
      throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    try {
      server.bind(address);
    } catch (IOException e) {
      server.close();
      throw e;
    }
    return new TunnelListener(server, opener, problems, describe);
  }

  /** Where it listens (with the port chosen when port 0 was asked for). */
  InetSocketAddress address() {
    try {
      return (InetSocketAddress) server.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException("listener closed", e);
    }
  }

  /** Accepts connections until the listener is closed or this thread is interrupted. */
  void run() {
    while (server.isOpen()) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException closedOrInterrupted) {
        return;
      } catch (IOException e) {
        problems.accept("cannot accept a connection: " + e.getMessage());
        // E.g. out of file descriptors: let some connections end before trying again.
        try {
          Thread.sleep(200);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
        continue;
      }
      int number = accepted.incrementAndGet();
      Thread serving =
          new Thread(() -> serve(channel.socket(), number), "airlock-tunnel-" + number);
      serving.setDaemon(true);
      serving.start();
    }
  }

  private void serve(Socket local, int number) {
    connections.add(local);
    String peer = String.valueOf(local.getRemoteSocketAddress()).replaceFirst("^/", "");
    try (local) {
      TunnelStream stream;
      try {
        stream = opener.open();
      } catch (RuntimeException refused) {
        problems.accept("connection from " + peer + " closed: " + describe.apply(refused));
        return;
      }
      streams.add(stream);
      if (closed.get()) {
        // Opened while the listener closed: close() may have missed it.
        stream.close().onErrorComplete().block(CLOSE_LIMIT);
        streams.remove(stream);
        return;
      }
      Disposable sending =
          TunnelPipe.sendUntilEnd(
              stream, local.getInputStream(), "airlock-tunnel-" + number + "-in");
      try {
        TunnelPipe.receiveInto(stream, local.getOutputStream());
      } catch (IOException localSideGone) {
        // The local client closed or reset its connection: end the stream below.
      } catch (RuntimeException broken) {
        if (!local.isClosed()) {
          problems.accept("connection from " + peer + " closed: " + describe.apply(broken));
        }
      } finally {
        sending.dispose();
        stream.close().doFinally(signal -> streams.remove(stream)).subscribe(done -> {}, e -> {});
      }
    } catch (IOException e) {
      // Closing a connection that is already gone: nothing to do.
    } finally {
      connections.remove(local);
    }
  }

  /**
   * Stops listening and ends every connection: each tunnel is closed as the client's end (the node
   * is told and records a normal end, rather than finding its socket dropped), waiting up to
   * {@value #CLOSE_LIMIT_SECONDS} s in all, then the local connections are closed. Called again, it
   * does nothing.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      server.close();
    } catch (IOException e) {
      // Closing anyway.
    }
    // The accepting thread comes here interrupted when that is how it was stopped: the wait for
    // the tunnels' ends must not be cut short by it.
    boolean interrupted = Thread.interrupted();
    try {
      Flux.fromIterable(List.copyOf(streams))
          .flatMap(stream -> stream.close().onErrorComplete())
          .then()
          .block(CLOSE_LIMIT);
    } catch (RuntimeException timedOutOrInterrupted) {
      // The local connections are closed below all the same.
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    for (Socket connection : connections) {
      try {
        connection.close();
      } catch (IOException e) {
        // Closing anyway.
      }
    }
  }
}
