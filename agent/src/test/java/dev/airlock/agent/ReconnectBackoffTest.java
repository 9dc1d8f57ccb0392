package dev.airlock.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

  @Test
  void startsUnderASecondDoublesAndCapsAtFiveSecondsWhileTheNodeRestarts() {
    for (int seed = 0; seed < 200; seed++) {
      ReconnectBackoff backoff = new ReconnectBackoff(new Random(seed));
      Duration first = backoff.next(true);
      assertThat(first).isBetween(Duration.ofMillis(250), Duration.ofSeconds(1));
      long elapsed = first.toMillis();
      boolean backAfterRestart = false;
      while (elapsed < 10_000) {
        Duration next = backoff.next(true);
        assertThat(next).isLessThanOrEqualTo(ReconnectBackoff.RESTART_CAP);
        elapsed += next.toMillis();
        backAfterRestart |= elapsed >= 5_000 && elapsed <= 10_000;
      }
      assertThat(backAfterRestart).as("an attempt between 5 and 10 s, seed " + seed).isTrue();
    }
  }

  @Test
  void capsAtThirtySecondsAfterRepeatedFailuresAndStartsOverAfterAWelcome() {
    ReconnectBackoff backoff = new ReconnectBackoff(new Random(1));
    for (int i = 0; i < 20; i++) {
      assertThat(backoff.next(false)).isLessThanOrEqualTo(ReconnectBackoff.CAP);
    }
    assertThat(backoff.next(false)).isGreaterThanOrEqualTo(Duration.ofMillis(7_500));
    backoff.reset();
    assertThat(backoff.next(false)).isLessThanOrEqualTo(Duration.ofSeconds(1));
  }
}
