package dev.airlock.signal.limit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SocketRateLimitTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final SocketRateLimit limit = new SocketRateLimit(now::get);

  @Test
  void aBurstOf200TextMessagesPassesAndThe201stIsRefusedWithAClearReason() {
    for (int i = 0; i < 200; i++) {
      assertThat(limit.admitText()).as("message %d", i).isNull();
    }
    assertThat(limit.admitText()).isEqualTo("rate limit: more than 50 messages per second");
  }

  @Test
  void theBucketRefillsAt50PerSecond() {
    for (int i = 0; i < 200; i++) {
      limit.admitText();
    }
    now.addAndGet(100_000_000L); // 100 ms: 5 more messages
    for (int i = 0; i < 5; i++) {
      assertThat(limit.admitText()).isNull();
    }
    assertThat(limit.admitText()).isNotNull();
  }

  @Test
  void aSteady50PerSecondIsNeverRefused() {
    for (int i = 0; i < 1000; i++) {
      now.addAndGet(20_000_000L);
      assertThat(limit.admitText()).isNull();
    }
  }

  @Test
  void binaryFramesHaveTheirOwnBucketOf4000At2000PerSecond() {
    for (int i = 0; i < 200; i++) {
      limit.admitText();
    }
    for (int i = 0; i < 4000; i++) {
      assertThat(limit.admitBinary()).isNull();
    }
    assertThat(limit.admitBinary()).isEqualTo("rate limit: more than 2000 relay frames per second");
    now.addAndGet(1_000_000L); // 1 ms: 2 more frames
    assertThat(limit.admitBinary()).isNull();
    assertThat(limit.admitBinary()).isNull();
    assertThat(limit.admitBinary()).isNotNull();
  }
}
