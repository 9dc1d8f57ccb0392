package dev.airlock.cli;

import dev.airlock.sdk.tunnel.TunnelStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Copies bytes between blocking streams (standard input and output, a local TCP connection) and a
 * tunnel stream. The blocking reads and writes run on threads of their own, never on the event
 * loops that carry the tunnel; both directions keep the tunnel's flow control (a local reader that
 * stalls holds the target back, and local input is read only as fast as the tunnel takes it).
 */
final class TunnelPipe {

  /** Buffers the reader of the tunnel's bytes asks for at a time. */
  private static final int RECEIVE_BATCH = 4;

  private TunnelPipe() {}

  /**
   * Sends what {@code in} yields to the stream, read on a thread named {@code threadName}, and
   * closes the stream at the end of the input (the tunnel has no half-close); returns at once. A
   * failed read closes the stream too.
   */
  static Disposable sendUntilEnd(TunnelStream stream, InputStream in, String threadName) {
    return stream.send(read(in, threadName)).onErrorComplete().then(stream.close()).subscribe();
  }

  /**
   * Writes what the stream receives to {@code out}, flushing after each buffer, on the calling
   * thread, until the stream ends.
   *
   * @throws dev.airlock.sdk.tunnel.TunnelException when the stream ended other than normally
   * @throws IOException when {@code out} cannot be written (the local reader went away); the stream
   *     is left open for the caller to close
   */
  static void receiveInto(TunnelStream stream, OutputStream out) throws IOException {
    for (ByteBuffer chunk : stream.receive().toIterable(RECEIVE_BATCH)) {
      if (chunk.hasArray()) {
        out.write(chunk.array(), chunk.arrayOffset() + chunk.position(), chunk.remaining());
      } else {
        byte[] copy = new byte[chunk.remaining()];
        chunk.get(copy);
        out.write(copy);
      }
      out.flush();
      // A PrintStream (standard output) keeps its errors to itself.
      if (out instanceof PrintStream print && print.checkError()) {
        throw new IOException("standard output is closed");
      }
    }
  }

  /**
   * The bytes of {@code in}, read on demand on a thread of their own (a blocking read must not run
   * on an event loop). The buffer is reused: the SDK copies what it is given as it is emitted.
   */
  static Flux<ByteBuffer> read(InputStream in, String threadName) {
    return Flux.defer(
        () -> {
          ExecutorService thread =
              Executors.newSingleThreadExecutor(
                  task -> {
                    Thread reader = new Thread(task, threadName);
                    reader.setDaemon(true);
                    return reader;
                  });
          AtomicBoolean cancelled = new AtomicBoolean();
          byte[] buffer = new byte[TunnelStream.MAX_CHUNK];
          return Flux.<ByteBuffer>generate(
                  sink -> {
                    int read;
                    try {
                      read = in.read(buffer);
                    } catch (IOException e) {
                      // Reads fail when the connection is closed because the tunnel ended.
                      if (cancelled.get()) {
                        sink.complete();
                      } else {
                        sink.error(e);
                      }
                      return;
                    }
                    if (read < 0) {
                      sink.complete();
                    } else {
                      sink.next(ByteBuffer.wrap(buffer, 0, read));
                    }
                  })
              .doOnCancel(() -> cancelled.set(true))
              .subscribeOn(Schedulers.fromExecutorService(thread))
              .doFinally(signal -> thread.shutdown());
        });
  }
}
