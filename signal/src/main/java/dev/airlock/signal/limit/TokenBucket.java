package dev.airlock.signal.limit;

import java.util.function.LongSupplier;

/**
 * A token bucket: holds up to {@code burst} tokens, refilled at {@code ratePerSecond}; each {@link
 * #tryTake()} spends one. Not thread-safe: one bucket belongs to one socket's inbound stream, whose
 * messages arrive one at a time.
 */
public final class TokenBucket {

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final double ratePerNano;
  private final double burst;
  private final LongSupplier nanoClock;
  private double tokens;
  private long refilledAt;

  /**
   * @param nanoClock a monotonic clock in nanoseconds, e.g. {@code System::nanoTime}
   */
  public TokenBucket(int ratePerSecond, int burst, LongSupplier nanoClock) {
    if (ratePerSecond < 1 || burst < 1) {
      throw new IllegalArgumentException(
          "rate " + ratePerSecond + "/s, burst " + burst + " (expected: both >= 1)");
    }
    this.ratePerNano = (double) ratePerSecond / NANOS_PER_SECOND;
    this.burst = burst;
    this.nanoClock = nanoClock;
    this.tokens = burst;
    this.refilledAt = nanoClock.getAsLong();
  }

  /** Spends a token; false when the bucket is empty (the caller is over the rate). */
  public boolean tryTake() {
    long now = nanoClock.getAsLong();
    tokens = Math.min(burst, tokens + (now - refilledAt) * ratePerNano);
    refilledAt = now;
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }
}
