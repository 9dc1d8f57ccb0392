package dev.airlock.signal.token;

import dev.airlock.signal.ThisNode;
import dev.airlock.signal.platform.PlatformLink;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Wires the verifiers to the platform's JWKS. */
@Configuration(proxyBeanMethods = false)
public class TokenConfiguration {

  @Bean
  PlatformKeys platformKeys(PlatformLink platform) {
    return new PlatformKeys(platform.signingKeys(), Clock.systemUTC(), System::nanoTime);
  }

  @Bean
  ConnectTokenVerifier connectTokenVerifier(PlatformKeys keys, ThisNode node) {
    return new ConnectTokenVerifier(keys, node);
  }

  @Bean
  AdminTokenVerifier adminTokenVerifier(PlatformKeys keys, ThisNode node) {
    return new AdminTokenVerifier(keys, node, Clock.systemUTC());
  }
}
