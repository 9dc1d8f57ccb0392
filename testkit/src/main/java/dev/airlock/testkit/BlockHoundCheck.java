package dev.airlock.testkit;

import java.time.Duration;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/** Proof that BlockHound is installed in the running test JVM. */
public final class BlockHoundCheck {

  private BlockHoundCheck() {}

  /**
   * Sleeps on a non-blocking thread ({@link Schedulers#parallel()}) and returns when BlockHound
   * refused it.
   *
   * @throws AssertionError when the sleep went through, or failed for another reason: BlockHound is
   *     not installed, and no test in this JVM would notice a blocking call
   */
  public static void assertBlockingIsDetected() {
    Mono<String> sleeper =
        Mono.fromCallable(
                () -> {
                  Thread.sleep(1);
                  return "";
                })
            .subscribeOn(Schedulers.parallel());
    try {
      sleeper.block(Duration.ofSeconds(5));
    } catch (RuntimeException e) {
      if (e.getCause() instanceof BlockingOperationError) {
        return;
      }
      throw new AssertionError(
          "Blocking on a non-blocking thread failed, but not because of BlockHound: " + e, e);
    }
    throw new AssertionError(
        "Thread.sleep on a non-blocking thread went through: BlockHound is not installed (is"
            + " io.projectreactor.tools:blockhound-junit-platform on the test class path, and"
            + " -XX:+AllowRedefinitionToAddDeleteMethods in surefire's argLine?)");
  }
}
