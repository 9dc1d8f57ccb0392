package dev.airlock.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jwt.SignedJWT;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentStateTest {

  @TempDir Path dir;

  @Test
  void keepsItsIdentityAndIdAcrossRestarts() throws Exception {
    Path stateDir = dir.resolve("state");
    AgentState first = AgentState.open(stateDir);
    assertThat(first.agentId()).isEmpty();
    UUID id = UUID.randomUUID();
    first.saveAgentId(id);

    AgentState reloaded = AgentState.open(stateDir);

    assertThat(reloaded.agentId()).contains(id);
    assertThat(reloaded.identity().toJSONString()).isEqualTo(first.identity().toJSONString());
    assertThat(reloaded.dtls().fingerprint()).isEqualTo(first.dtls().fingerprint());
    assertThat(reloaded.publicKeyJson()).doesNotContain("\"d\"").contains("\"crv\":\"P-256\"");
    for (String file : new String[] {AgentState.IDENTITY_FILE, AgentState.AGENT_ID_FILE}) {
      assertThat(
              PosixFilePermissions.toString(Files.getPosixFilePermissions(stateDir.resolve(file))))
          .isEqualTo("rw-------");
    }
  }

  @Test
  void theProofIsSignedWithTheIdentityKey() throws Exception {
    AgentState state = AgentState.open(dir);
    UUID id = UUID.randomUUID();
    Instant now = Instant.now();

    SignedJWT proof = SignedJWT.parse(IdentityProof.create(state.identity(), id, now));

    assertThat(proof.verify(new ECDSAVerifier(state.identity().toECPublicKey()))).isTrue();
    assertThat(proof.getJWTClaimsSet().getSubject()).isEqualTo(id.toString());
    assertThat(proof.getJWTClaimsSet().getAudience()).containsExactly("airlock-signal");
    assertThat(proof.getJWTClaimsSet().getExpirationTime().getTime() / 1000)
        .isEqualTo(now.plusSeconds(60).getEpochSecond());
    assertThat(proof.getJWTClaimsSet().getJWTID()).isNotBlank();
  }
}
