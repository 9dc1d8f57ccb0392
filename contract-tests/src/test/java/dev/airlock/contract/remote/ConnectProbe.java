package dev.airlock.contract.remote;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.connect.ConnectOptions;
import dev.airlock.sdk.connect.RemoteSession;
import dev.airlock.sdk.model.SessionTransport;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import tools.jackson.databind.json.JsonMapper;

/**
 * A user's program, run by the tests in the client's network namespace: connects to an agent with
 * the Java SDK, sends random bytes on the agent's {@code echo} channel, checks that the same bytes
 * come back, reads {@code info}, and prints one line {@code PROBE {json}} with what happened.
 *
 * <p>Arguments: {@code url apiKey target transport bytes [holdSeconds]}.
 */
public final class ConnectProbe {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private ConnectProbe() {}

  public static void main(String[] args) {
    Map<String, Object> result = new LinkedHashMap<>();
    int status = 0;
    try {
      run(args, result);
      result.put("ok", true);
    } catch (Throwable e) {
      result.put("ok", false);
      result.put("error", String.valueOf(e.getMessage()));
      result.put("errorType", e.getClass().getName());
      e.printStackTrace();
      status = 1;
    }
    System.out.println("PROBE " + JSON.writeValueAsString(result));
    System.out.flush();
    System.exit(status);
  }

  private static void run(String[] args, Map<String, Object> result) throws Exception {
    String url = args[0];
    String apiKey = args[1];
    String target = args[2];
    String transport = args[3];
    int bytes = Integer.parseInt(args[4]);
    int hold = args.length > 5 ? Integer.parseInt(args[5]) : 0;
    AirlockClient client = AirlockClient.builder().baseUrl(url).build().withApiKey(apiKey);
    ConnectOptions options =
        ConnectOptions.defaults()
            .withTransport(
                "relay".equals(transport) ? SessionTransport.RELAY : SessionTransport.AUTO);
    long start = System.nanoTime();
    RemoteSession session = client.connect(target, options).block(Duration.ofSeconds(40));
    result.put("connectMillis", (System.nanoTime() - start) / 1_000_000);
    result.put("sessionId", session.id().toString());
    result.put("path", session.path().name().toLowerCase());

    var info = session.channel("info");
    ByteBuffer infoMessage = info.messages().next().block(Duration.ofSeconds(10));
    result.put("info", java.nio.charset.StandardCharsets.UTF_8.decode(infoMessage).toString());

    byte[] sent = new byte[bytes];
    new Random(42).nextBytes(sent);
    var echo = session.channel("echo");
    var received = new java.io.ByteArrayOutputStream();
    var done =
        echo.messages()
            .doOnNext(
                b -> {
                  byte[] chunk = new byte[b.remaining()];
                  b.get(chunk);
                  received.write(chunk, 0, chunk.length);
                })
            .takeUntil(b -> received.size() >= bytes)
            .then()
            .toFuture();
    for (int off = 0; off < bytes; off += 16 * 1024) {
      int n = Math.min(16 * 1024, bytes - off);
      echo.send(ByteBuffer.wrap(sent, off, n)).block(Duration.ofSeconds(20));
    }
    done.get(60, java.util.concurrent.TimeUnit.SECONDS);
    result.put("echoedBytes", received.size());
    result.put("intact", java.util.Arrays.equals(sent, received.toByteArray()));
    if (hold > 0) {
      System.out.println("PROBE-HOLDING " + session.id());
      System.out.flush();
      Object reason = session.closed().block(Duration.ofSeconds(hold));
      result.put("closedBy", String.valueOf(reason));
      return;
    }
    session.close().block(Duration.ofSeconds(10));
  }
}
