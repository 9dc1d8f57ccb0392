package dev.airlock.agent;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * The delays between reconnection attempts: a random share (25 % to 100 %) of a base that starts at
 * one second and doubles, capped at {@link #RESTART_CAP} while the node is restarting (it said
 * "going away" or refused the connection) and at {@link #CAP} otherwise. The randomness spreads a
 * fleet of agents over the window instead of having them all knock at once; the low cap while a
 * node restarts brings each back within a few seconds of it. Not thread-safe.
 */
final class ReconnectBackoff {

  static final Duration RESTART_CAP = Duration.ofSeconds(5);
  static final Duration CAP = Duration.ofSeconds(30);
  private static final long FIRST_MILLIS = 1000;

  private final RandomGenerator random;
  private int failures;

  ReconnectBackoff(RandomGenerator random) {
    this.random = random;
  }

  /** The delay before the next attempt; {@code nodeRestarting} when it went away or refused. */
  Duration next(boolean nodeRestarting) {
    long cap = (nodeRestarting ? RESTART_CAP : CAP).toMillis();
    long base = Math.min(cap, FIRST_MILLIS << Math.min(failures, 16));
    failures++;
    return Duration.ofMillis((long) (base * (0.25 + 0.75 * random.nextDouble())));
  }

  /** Starts over, after the node welcomed the agent. */
  void reset() {
    failures = 0;
  }
}
