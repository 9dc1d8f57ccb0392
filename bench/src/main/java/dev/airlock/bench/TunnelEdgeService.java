package dev.airlock.bench;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;

/**
 * The service at the edge that {@link TunnelBench} reaches three ways (directly, through the
 * reverse tunnel, through OpenSSH's {@code ssh -R}). Run by {@code bench/run-tunnel.sh} in the edge
 * namespace; plain blocking sockets, a thread per connection, so that it costs every route the
 * same. A benchmark's helper, not a test.
 *
 * <p>Each connection starts with one command byte:
 *
 * <ul>
 *   <li>{@code E}: echo, everything back until the client closes;
 *   <li>{@code U} and a length (8 bytes, big-endian, a multiple of {@link #ACK_EVERY}): a sink that
 *       reads up to that many bytes and answers, each time another {@link #ACK_EVERY} bytes have
 *       arrived, the count so far (8 bytes), so the client knows when its bytes have arrived;
 *   <li>{@code D} and a length: a source that writes that many bytes (64 KiB writes of random
 *       bytes), then waits for the client to close;
 *   <li>{@code S}: a target that never reads again, so that what the client sends piles up on the
 *       way (TCP buffers, then the tunnel's flow-control windows).
 * </ul>
 *
 * <p>Usage: {@code TunnelEdgeService PORT [ADDRESS]} (default 0.0.0.0); prints {@code edge service
 * up on ADDRESS:PORT} once it listens.
 */
public final class TunnelEdgeService {

  /** The sink acknowledges every MiB. */
  static final int ACK_EVERY = 1 << 20;

  static final int CHUNK = 64 * 1024;

  private TunnelEdgeService() {}

  public static void main(String[] args) throws IOException {
    int port = Integer.parseInt(args[0]);
    InetAddress address = InetAddress.getByName(args.length > 1 ? args[1] : "0.0.0.0");
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(address, port), 4096);
    byte[] chunk = new byte[CHUNK];
    new Random(1).nextBytes(chunk);
    System.out.println("edge service up on " + address.getHostAddress() + ":" + port);
    System.out.flush();
    while (true) {
      Socket socket = server.accept();
      Thread connection =
          new Thread(
              null,
              () -> {
                try (socket) {
                  socket.setTcpNoDelay(true);
                  serve(socket, chunk);
                } catch (IOException e) {
                  // The client left (closing a bulk download early is how it ends one).
                }
              },
              "edge-" + socket.getPort(),
              256 * 1024);
      connection.setDaemon(true);
      connection.start();
    }
  }

  private static void serve(Socket socket, byte[] chunk) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    int command = in.read();
    switch (command) {
      case -1 -> {}
      case 'E' -> {
        byte[] buffer = new byte[CHUNK];
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
        }
      }
      case 'U' -> {
        long length = new DataInputStream(in).readLong();
        DataOutputStream acks = new DataOutputStream(out);
        byte[] buffer = new byte[CHUNK];
        long total = 0;
        long acked = 0;
        while (total < length) {
          int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - total));
          if (n < 0) {
            throw new EOFException("upload ended after " + total + " of " + length + " bytes");
          }
          total += n;
          long whole = total / ACK_EVERY * ACK_EVERY;
          if (whole > acked) {
            acked = whole;
            acks.writeLong(acked);
            acks.flush();
          }
        }
        drain(in);
      }
      case 'D' -> {
        long length = new DataInputStream(in).readLong();
        for (long sent = 0; sent < length; sent += CHUNK) {
          out.write(chunk, 0, (int) Math.min(CHUNK, length - sent));
        }
        out.flush();
        drain(in);
      }
      case 'S' -> {
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      default -> throw new IOException("unknown command " + command);
    }
  }

  /** Waits for the client to close, so that the client decides when the connection ends. */
  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[4096];
    while (in.read(buffer) >= 0) {
      // nothing more is expected
    }
  }
}
