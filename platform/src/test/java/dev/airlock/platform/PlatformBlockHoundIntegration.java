package dev.airlock.platform;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * What BlockHound tolerates on event loops in the platform's tests only, each with its reason; the
 * testkit's {@code AirlockBlockHoundIntegration} holds what every module tolerates. Both are
 * registered ({@code META-INF/services}) and BlockHound applies both.
 */
public class PlatformBlockHoundIntegration implements BlockHoundIntegration {

  @Override
  public void applyTo(BlockHound.Builder builder) {
    // Swagger UI (documentation, not the API): the webjar's version is read from its jar once,
    // then cached.
    builder.allowBlockingCallsInside("org.webjars.WebJarVersionLocator", "version");
  }
}
