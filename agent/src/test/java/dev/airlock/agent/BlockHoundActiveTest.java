package dev.airlock.agent;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Proves BlockHound is installed in this module's tests, so the other tests can trust it. */
class BlockHoundActiveTest {

  @Test
  void blockingOnANonBlockingThreadFails() {
    Mono<String> sleeper =
        Mono.fromCallable(
                () -> {
                  Thread.sleep(1);
                  return "";
                })
            .subscribeOn(Schedulers.parallel());

    assertThatThrownBy(() -> sleeper.block(Duration.ofSeconds(5)))
        .hasCauseInstanceOf(BlockingOperationError.class);
  }
}
