package dev.airlock.platform.session;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.api.model.IceServer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.stereotype.Component;

/**
 * The ICE servers handed to both ends of a session: the configured STUN servers, and the TURN
 * servers with a credential of the session's own, in coturn's {@code use-auth-secret} scheme
 * (username {@code <expiry>:<user id>}, password base64(HMAC-SHA1(secret, username))), so no TURN
 * password is ever shared or stored.
 */
@Component
public class IceServers {

  private final AirlockProperties.Ice settings;

  public IceServers(AirlockProperties properties) {
    this.settings = properties.ice();
  }

  /** The ICE servers for a session of {@code userId}. */
  public List<IceServer> forSession(UUID userId) {
    List<IceServer> servers = new ArrayList<>();
    List<String> stun = settings.stunUrls().stream().filter(u -> !u.isBlank()).toList();
    if (!stun.isEmpty()) {
      servers.add(new IceServer(new ArrayList<>(stun)));
    }
    List<String> turn = settings.turnUrls().stream().filter(u -> !u.isBlank()).toList();
    if (!turn.isEmpty() && !settings.turnSecret().isBlank()) {
      long expiry = Instant.now().plus(settings.turnCredentialTtl()).getEpochSecond();
      String username = expiry + ":" + userId;
      IceServer server = new IceServer(new ArrayList<>(turn));
      server.setUsername(username);
      server.setCredential(hmac(settings.turnSecret(), username));
      servers.add(server);
    }
    return servers;
  }

  private static String hmac(String secret, String username) {
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      return Base64.getEncoder()
          .encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is missing from this JVM", e);
    }
  }
}
