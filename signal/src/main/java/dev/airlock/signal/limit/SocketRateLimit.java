package dev.airlock.signal.limit;

import java.util.function.LongSupplier;

/**
 * The inbound rate limits of one socket (see {@code openapi/signal.yaml}): at most 50 text messages
 * per second with bursts of 200, and 2,000 binary relay frames per second with bursts of 4,000. Not
 * thread-safe, like {@link TokenBucket}.
 */
public final class SocketRateLimit {

  public static final int TEXT_RATE = 50;
  public static final int TEXT_BURST = 200;
  public static final int BINARY_RATE = 2000;
  public static final int BINARY_BURST = 4000;

  private final TokenBucket text;
  private final TokenBucket binary;

  public SocketRateLimit() {
    this(System::nanoTime);
  }

  public SocketRateLimit(LongSupplier nanoClock) {
    this.text = new TokenBucket(TEXT_RATE, TEXT_BURST, nanoClock);
    this.binary = new TokenBucket(BINARY_RATE, BINARY_BURST, nanoClock);
  }

  /** Null when one more text message is allowed now, else the close reason. */
  public String admitText() {
    return text.tryTake() ? null : "rate limit: more than " + TEXT_RATE + " messages per second";
  }

  /** Null when one more binary frame is allowed now, else the close reason. */
  public String admitBinary() {
    return binary.tryTake()
        ? null
        : "rate limit: more than " + BINARY_RATE + " relay frames per second";
  }
}
