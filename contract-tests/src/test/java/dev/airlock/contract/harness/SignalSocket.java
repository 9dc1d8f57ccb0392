package dev.airlock.contract.harness;

import dev.airlock.protocol.SignalCodec;
import dev.airlock.protocol.message.SignalMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * A bare WebSocket to a signal node, for what an SDK would never send: replayed, forged or
 * wrong-audience tokens, a used join token. Sends one text frame and reports how the node answered.
 */
public final class SignalSocket {

  /** The node's first message, if any, and the close code and reason, if it closed. */
  public record Answer(Optional<SignalMessage> message, int closeCode, String closeReason) {

    @Override
    public String toString() {
      return "message="
          + message.map(SignalCodec::encode).orElse("none")
          + " close="
          + (closeCode < 0 ? "none" : closeCode + " " + closeReason);
    }
  }

  private SignalSocket() {}

  /**
   * Connects to {@code url}, sends {@code hello}, and waits up to {@code wait} for the node to
   * close the socket; a node that welcomes keeps it open, so then only the message is reported (and
   * the socket is closed by this side).
   */
  public static Answer send(String url, SignalMessage hello, Duration wait) throws Exception {
    CompletableFuture<SignalMessage> first = new CompletableFuture<>();
    CompletableFuture<Answer> closed = new CompletableFuture<>();
    StringBuilder text = new StringBuilder();
    WebSocket.Listener listener =
        new WebSocket.Listener() {
          @Override
          public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
              first.complete(SignalCodec.decode(text.toString()));
              text.setLength(0);
            }
            ws.request(1);
            return null;
          }

          @Override
          public CompletionStage<?> onClose(WebSocket ws, int status, String reason) {
            closed.complete(new Answer(Optional.ofNullable(first.getNow(null)), status, reason));
            return null;
          }

          @Override
          public void onError(WebSocket ws, Throwable error) {
            closed.complete(
                new Answer(Optional.ofNullable(first.getNow(null)), -1, error.toString()));
          }
        };
    WebSocket socket =
        HttpClient.newHttpClient()
            .newWebSocketBuilder()
            .subprotocols(SignalCodec.SUBPROTOCOL)
            .connectTimeout(Duration.ofSeconds(5))
            .buildAsync(URI.create(url), listener)
            .get(10, TimeUnit.SECONDS);
    socket.sendText(SignalCodec.encode(hello), true).get(5, TimeUnit.SECONDS);
    try {
      return closed.get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException stillOpen) {
      socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").exceptionally(e -> null);
      return new Answer(Optional.ofNullable(first.getNow(null)), -1, "");
    }
  }
}
