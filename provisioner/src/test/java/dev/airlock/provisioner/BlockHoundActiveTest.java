package dev.airlock.provisioner;

import dev.airlock.testkit.BlockHoundCheck;
import org.junit.jupiter.api.Test;

/** Proves BlockHound is installed in this module's tests, so the other tests can trust it. */
class BlockHoundActiveTest {

  @Test
  void blockingOnANonBlockingThreadFails() {
    BlockHoundCheck.assertBlockingIsDetected();
  }
}
