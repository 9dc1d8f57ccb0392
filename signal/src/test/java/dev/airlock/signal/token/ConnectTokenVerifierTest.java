package dev.airlock.signal.token;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.airlock.signal.LocalJwks;
import dev.airlock.signal.SignalProperties;
import dev.airlock.signal.ThisNode;
import dev.airlock.signal.platform.PlatformLink;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/** The connect-token verifier against a JWKS served over real HTTP by {@link LocalJwks}. */
class ConnectTokenVerifierTest {

  private static LocalJwks platform;
  private static ThisNode node;
  private final AtomicLong nanos = new AtomicLong(System.nanoTime());
  private PlatformKeys keys;
  private ConnectTokenVerifier verifier;

  @BeforeAll
  static void startPlatform() {
    platform = new LocalJwks();
    SignalProperties properties =
        new SignalProperties(
            LocalJwks.NODE,
            "ws://localhost:1",
            "http://localhost:1",
            platform.url(),
            "alk_test",
            null,
            "airlock",
            Duration.ofSeconds(20),
            Duration.ofSeconds(60),
            Duration.ofSeconds(10),
            64);
    node = new ThisNode(properties, new MockEnvironment());
  }

  @AfterAll
  static void stopPlatform() {
    platform.close();
  }

  @org.junit.jupiter.api.BeforeEach
  void newCache() {
    PlatformLink link = new PlatformLink(platform.url(), "alk_test", node);
    keys = new PlatformKeys(link.signingKeys(), Clock.systemUTC(), nanos::get);
    verifier = new ConnectTokenVerifier(keys, node);
  }

  private ConnectToken verify(String token) {
    return verifier.verify(token).block(Duration.ofSeconds(10));
  }

  private String token(Consumer<JWTClaimsSet.Builder> change) {
    return platform.connectToken(UUID.randomUUID(), UUID.randomUUID(), change);
  }

  @Test
  void acceptsAGoodTokenAndReadsEveryClaim() {
    UUID session = UUID.randomUUID();
    UUID agent = UUID.randomUUID();
    ConnectToken token = verify(platform.connectToken(session, agent, claims -> {}));
    assertThat(token.sessionId()).isEqualTo(session);
    assertThat(token.agentId()).isEqualTo(agent);
    assertThat(token.nodeId()).isEqualTo(LocalJwks.NODE);
    assertThat(token.mode()).isEqualTo("control");
    assertThat(token.transport()).isEqualTo("auto");
    assertThat(token.username()).isEqualTo("alice");
    assertThat(token.iceServers()).hasSize(1);
    assertThat(token.iceServers().get(0).getUrls()).containsExactly("stun:stun.example.com:3478");
  }

  @Test
  void refusesAnExpiredToken() {
    String expired = token(c -> c.expirationTime(Date.from(Instant.now().minusSeconds(31))));
    assertThatThrownBy(() -> verify(expired))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessageStartingWith("token expired at");
  }

  @Test
  void toleratesThirtySecondsOfClockSkew() {
    String justExpired = token(c -> c.expirationTime(Date.from(Instant.now().minusSeconds(20))));
    assertThat(verify(justExpired)).isNotNull();
  }

  @Test
  void refusesTheWrongAudience() {
    String admin = token(c -> c.audience("airlock-signal-admin"));
    assertThatThrownBy(() -> verify(admin))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessage("token for audience [airlock-signal-admin] (expected: airlock-signal)");
  }

  @Test
  void refusesATokenForAnotherNode() {
    String elsewhere = token(c -> c.claim("nod", "node-b"));
    assertThatThrownBy(() -> verify(elsewhere))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessageStartingWith("token is for node node-b");
  }

  @Test
  void refusesABadSignature() {
    String good = token(c -> {});
    String[] parts = good.split("\\.");
    String tampered =
        parts[0] + "." + token(c -> c.claim("mod", "view")).split("\\.")[1] + "." + parts[2];
    assertThatThrownBy(() -> verify(tampered))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessage("bad token signature");
  }

  @Test
  void refusesAKeyTheJwksDoesNotHoldAndRefetchesAtMostOncePer5Seconds() {
    verify(token(c -> {}));
    int fetches = platform.jwksFetches.get();
    var stranger = LocalJwks.generate();
    String forged =
        LocalJwks.sign(
            new JWTClaimsSet.Builder()
                .issuer("airlock")
                .audience("airlock-signal")
                .expirationTime(Date.from(Instant.now().plusSeconds(60)))
                .build(),
            stranger);

    nanos.addAndGet(Duration.ofSeconds(6).toNanos());
    assertThatThrownBy(() -> verify(forged))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessage("token signed with unknown key " + stranger.getKeyID());
    assertThat(platform.jwksFetches.get()).isEqualTo(fetches + 1);

    assertThatThrownBy(() -> verify(forged)).isInstanceOf(TokenRejectedException.class);
    assertThat(platform.jwksFetches.get()).as("no refetch within 5 s").isEqualTo(fetches + 1);
  }

  @Test
  void refusesGarbage() {
    assertThatThrownBy(() -> verify("not-a-jwt"))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessageStartingWith("malformed token");
  }

  @Test
  void refusesAMissingClaim() {
    String noSession = token(c -> c.claim("sid", null));
    assertThatThrownBy(() -> verify(noSession))
        .isInstanceOf(TokenRejectedException.class)
        .hasMessage("malformed token: claim sid missing");
  }
}
