package dev.airlock.contract.tunnel;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The services of the test's edge site, run as their own process inside its namespace, all on its
 * loopback: a web app ({@code GET /anything} answers {@code edge wiki: /anything}), an echo
 * service, and a source that writes an endless stream of bytes (to stall a reader with).
 *
 * <p>Usage: {@code EdgeServices HTTP_PORT ECHO_PORT SOURCE_PORT}; prints {@code edge services up}
 * when all three listen.
 */
public final class EdgeServices {

  private EdgeServices() {}

  public static void main(String[] args) throws IOException {
    InetAddress loopback = InetAddress.getLoopbackAddress();
    HttpServer http =
        HttpServer.create(new InetSocketAddress(loopback, Integer.parseInt(args[0])), 16);
    http.createContext(
        "/",
        exchange -> {
          byte[] body =
              ("edge wiki: " + exchange.getRequestURI().getPath() + "\n")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain");
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    http.start();
    ServerSocket echo = new ServerSocket(Integer.parseInt(args[1]), 64, loopback);
    ServerSocket source = new ServerSocket(Integer.parseInt(args[2]), 64, loopback);
    serve(echo, EdgeServices::echo);
    serve(source, EdgeServices::source);
    System.out.println("edge services up");
  }

  private interface Handler {
    void handle(Socket socket) throws IOException;
  }

  private static void serve(ServerSocket server, Handler handler) {
    new Thread(
            () -> {
              while (true) {
                Socket socket;
                try {
                  socket = server.accept();
                } catch (IOException e) {
                  return;
                }
                Thread connection =
                    new Thread(
                        () -> {
                          try (socket) {
                            handler.handle(socket);
                          } catch (IOException e) {
                            // the other side left
                          }
                        });
                connection.setDaemon(true);
                connection.start();
              }
            })
        .start();
  }

  private static void echo(Socket socket) throws IOException {
    InputStream in = socket.getInputStream();
    OutputStream out = socket.getOutputStream();
    byte[] buffer = new byte[64 * 1024];
    int n;
    while ((n = in.read(buffer)) >= 0) {
      out.write(buffer, 0, n);
      out.flush();
    }
  }

  private static void source(Socket socket) throws IOException {
    OutputStream out = socket.getOutputStream();
    byte[] chunk = new byte[64 * 1024];
    java.util.Arrays.fill(chunk, (byte) 'x');
    while (true) {
      out.write(chunk);
    }
  }
}
