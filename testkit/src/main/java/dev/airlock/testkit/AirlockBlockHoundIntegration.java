package dev.airlock.testkit;

import reactor.blockhound.BlockHound;
import reactor.blockhound.BlockingOperationError;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * What BlockHound tolerates on event loops in every module's tests, each with its reason. Anything
 * else that blocks a non-blocking thread fails the test that triggered it.
 *
 * <p>Registered in this jar's {@code META-INF/services}, so a module gets it with the testkit on
 * its test class path. A module adds what only it needs in an integration of its own, registered in
 * its own {@code src/test/resources/META-INF/services}: BlockHound applies every registered
 * integration.
 */
public class AirlockBlockHoundIntegration implements BlockHoundIntegration {

  @Override
  public void applyTo(BlockHound.Builder builder) {
    // Report every detection loudly, also where a framework would swallow the error.
    builder.blockingMethodCallback(
        method -> {
          BlockingOperationError error = new BlockingOperationError(method);
          System.err.println("BLOCKHOUND: blocking call " + method);
          error.printStackTrace();
          throw error;
        });
    // UUID.randomUUID reads /dev/urandom through the default SecureRandom; that read never waits.
    builder.allowBlockingCallsInside("java.util.UUID", "randomUUID");
    // The console appender writes log lines synchronously; a production deployment ships logs
    // through its own appender. Logging is not a request-path dependency.
    builder.allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "writeBytes");
    builder.allowBlockingCallsInside("ch.qos.logback.core.OutputStreamAppender", "subAppend");
  }
}
