package dev.airlock.contract;

import static dev.airlock.contract.Accounts.allow;
import static dev.airlock.contract.Problems.assertUnauthenticated;
import static dev.airlock.contract.harness.ContractPlatform.ADMIN_USERNAME;
import static dev.airlock.contract.harness.ContractPlatform.CALL_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.airlock.contract.Accounts.Account;
import dev.airlock.contract.harness.AuditTrail;
import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.ApiKeyCreate;
import dev.airlock.sdk.model.ApiKeyCreated;
import dev.airlock.sdk.model.AuditOutcome;
import dev.airlock.sdk.model.Jwk;
import dev.airlock.sdk.model.LoginRequest;
import dev.airlock.sdk.model.RefreshRequest;
import dev.airlock.sdk.model.ResourceKind;
import dev.airlock.sdk.model.TokenPair;
import dev.airlock.sdk.model.Verb;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Every kind of bad credential is refused the same way (401, an {@code unauthenticated} problem, a
 * {@code WWW-Authenticate} challenge) and leaves a {@code denied} audit event.
 */
@ContractTest
class CredentialRejectionContractTest {

  private static final String TOKEN_REJECTED = "auth.token";
  private static final String REFRESH_REJECTED = "auth.refresh";

  /**
   * Tokens an attacker could make without the platform's private key. Each one is sent as {@code
   * Authorization: Bearer} to {@code GET /api/v1/auth/me}.
   */
  @TestFactory
  Stream<DynamicTest> forgedTokensAreRefusedAndAudited(ContractPlatform platform) throws Exception {
    TokenPair admin =
        platform.newClient().login(ADMIN_USERNAME, platform.adminPassword()).block(CALL_TIMEOUT);
    SignedJWT genuine = SignedJWT.parse(admin.getAccessToken());
    String kid = genuine.getHeader().getKeyID();
    JWTClaimsSet claims = genuine.getJWTClaimsSet();
    String[] parts = admin.getAccessToken().split("\\.");

    Map<String, String> forgeries = new LinkedHashMap<>();
    forgeries.put(
        "the admin's claims signed by another EC key under the platform's kid",
        signEs256(claims, new ECKeyGenerator(Curve.P_256).keyID(kid).generate()));
    forgeries.put(
        "the admin's claims signed by another EC key under an unknown kid",
        signEs256(claims, new ECKeyGenerator(Curve.P_256).keyID("attacker").generate()));
    forgeries.put(
        "alg none: the admin's claims without a signature",
        base64Json("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"" + kid + "\"}")
            + "."
            + parts[1]
            + ".");
    forgeries.put(
        "HS256 keyed with the platform's public key (algorithm confusion)",
        signHs256WithPublicKey(claims, kid, platformKey(platform, kid)));
    forgeries.put(
        "a genuine token whose expiry was pushed back, signature kept",
        parts[0]
            + "."
            + new JWTClaimsSet.Builder(claims)
                .expirationTime(Date.from(Instant.now().plusSeconds(86_400)))
                .build()
                .toPayload()
                .toBase64URL()
            + "."
            + parts[2]);
    forgeries.put("a genuine token with its signature stripped", parts[0] + "." + parts[1] + ".");
    forgeries.put("garbage", "garbage");
    forgeries.put("three dots of nothing", "a.b.c");
    forgeries.put("an API key that was never issued", "alk_" + randomHex(24));

    AuditTrail audit = new AuditTrail(platform::admin);
    return forgeries.entrySet().stream()
        .map(
            forgery ->
                dynamicTest(
                    forgery.getKey(),
                    () -> {
                      long before = audit.newestSeq(TOKEN_REJECTED, null);
                      assertUnauthenticated(
                          platform.newClient().withAccessToken(forgery.getValue()).auth().getMe());
                      audit.awaitEvent(TOKEN_REJECTED, AuditOutcome.DENIED, before);
                    }));
  }

  @Test
  void anAccessTokenStopsWorkingAtLogout(ContractPlatform platform) {
    Account user = new Accounts(platform).user("leaver");
    AirlockClient client = platform.newClient();
    TokenPair pair = client.login(user.username(), user.password()).block(CALL_TIMEOUT);
    client.auth().getMe().block(CALL_TIMEOUT);

    client.logout().block(CALL_TIMEOUT);

    AuditTrail audit = new AuditTrail(platform::admin);
    long before = audit.newestSeq(TOKEN_REJECTED, null);
    assertUnauthenticated(
        platform.newClient().withAccessToken(pair.getAccessToken()).auth().getMe());
    audit.awaitEvent(TOKEN_REJECTED, AuditOutcome.DENIED, before);
    assertUnauthenticated(
        platform
            .newClient()
            .auth()
            .refresh(new RefreshRequest().refreshToken(pair.getRefreshToken())));
  }

  @Test
  void aRevokedApiKeyIsRefusedAndAudited(ContractPlatform platform) {
    Accounts accounts = new Accounts(platform);
    String keyMakers = accounts.role("key-makers", allow(ResourceKind.API_KEY, Verb.CREATE));
    AirlockClient owner = accounts.login(accounts.user("owner", keyMakers));
    ApiKeyCreated key =
        owner
            .apiKeys()
            .createApiKey(new ApiKeyCreate().name("short-lived").roles(List.of(keyMakers)))
            .block(CALL_TIMEOUT);
    AirlockClient automation = platform.newClient().withApiKey(key.getSecret());
    automation.auth().getMe().block(CALL_TIMEOUT);

    owner.apiKeys().revokeApiKey(key.getId()).block(CALL_TIMEOUT);

    AuditTrail audit = new AuditTrail(platform::admin);
    long before = audit.newestSeq(TOKEN_REJECTED, null);
    assertUnauthenticated(automation.auth().getMe());
    audit.awaitEvent(TOKEN_REJECTED, AuditOutcome.DENIED, before);
  }

  @Test
  void aRefreshTokenPresentedTwiceEndsTheWholeSession(ContractPlatform platform) {
    Account user = new Accounts(platform).user("rotator");
    AirlockClient anonymous = platform.newClient();
    TokenPair first =
        anonymous
            .auth()
            .login(new LoginRequest().username(user.username()).password(user.password()))
            .block(CALL_TIMEOUT);
    TokenPair second =
        anonymous
            .auth()
            .refresh(new RefreshRequest().refreshToken(first.getRefreshToken()))
            .block(CALL_TIMEOUT);
    assertThat(second.getRefreshToken()).isNotEqualTo(first.getRefreshToken());
    platform
        .newClient()
        .withAccessToken(second.getAccessToken())
        .auth()
        .getMe()
        .block(CALL_TIMEOUT);

    AuditTrail audit = new AuditTrail(platform::admin);
    long before = audit.newestSeq(REFRESH_REJECTED, null);
    assertUnauthenticated(
        anonymous.auth().refresh(new RefreshRequest().refreshToken(first.getRefreshToken())));
    audit.awaitEvent(REFRESH_REJECTED, AuditOutcome.DENIED, before);

    assertUnauthenticated(
        platform.newClient().withAccessToken(second.getAccessToken()).auth().getMe());
    assertUnauthenticated(
        anonymous.auth().refresh(new RefreshRequest().refreshToken(second.getRefreshToken())));
  }

  @Test
  void noCredentialsOrAnotherSchemeGetAChallenge(ContractPlatform platform) {
    assertUnauthenticated(platform.newClient().users().listUsers(null, null));

    ResponseEntity<String> basic =
        platform
            .rawWebClient()
            .get()
            .uri("/api/v1/auth/me")
            .header("Authorization", "Basic YWRtaW46YWRtaW4=")
            .exchangeToMono(response -> response.toEntity(String.class))
            .block(CALL_TIMEOUT);

    assertThat(basic.getStatusCode().value()).isEqualTo(401);
    assertThat(basic.getHeaders().getContentType()).isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
    assertThat(basic.getHeaders().getFirst("WWW-Authenticate")).startsWithIgnoringCase("Bearer");
    JsonNode problem = JsonMapper.builder().build().readTree(basic.getBody());
    assertThat(problem.path("type").asString()).isEqualTo("urn:airlock:problem:unauthenticated");
  }

  private static String signEs256(JWTClaimsSet claims, ECKey key) throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.ES256)
                .keyID(key.getKeyID())
                .type(JOSEObjectType.JWT)
                .build(),
            claims);
    jwt.sign(new ECDSASigner(key));
    return jwt.serialize();
  }

  private static String signHs256WithPublicKey(JWTClaimsSet claims, String kid, ECKey publicKey)
      throws Exception {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(kid).type(JOSEObjectType.JWT).build(),
            claims);
    jwt.sign(new MACSigner(publicKey.toECPublicKey().getEncoded()));
    return jwt.serialize();
  }

  private static ECKey platformKey(ContractPlatform platform, String kid) throws Exception {
    for (Jwk jwk : platform.newClient().auth().getJwks().block(CALL_TIMEOUT).getKeys()) {
      if (kid.equals(jwk.getKid())) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("kty", jwk.getKty());
        fields.put("kid", jwk.getKid());
        fields.put("crv", jwk.getCrv());
        fields.put("x", jwk.getX());
        fields.put("y", jwk.getY());
        return ECKey.parse(fields);
      }
    }
    throw new AssertionError("the key set has no key " + kid + " although access tokens name it");
  }

  private static String base64Json(String json) {
    return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }
}
