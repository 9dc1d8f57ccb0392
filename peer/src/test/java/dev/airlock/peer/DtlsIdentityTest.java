package dev.airlock.peer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DtlsIdentityTest {

  @TempDir Path state;

  @Test
  void keepsTheSameCertificateAcrossRestarts() throws Exception {
    DtlsIdentity first = DtlsIdentity.loadOrCreate(state.resolve("agent"));
    DtlsIdentity reloaded = DtlsIdentity.loadOrCreate(state.resolve("agent"));

    assertThat(first.fingerprint()).matches("sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}");
    assertThat(reloaded.fingerprint()).isEqualTo(first.fingerprint());
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(
                    state.resolve("agent").resolve(DtlsIdentity.KEY_FILE))))
        .isEqualTo("rw-------");
    assertThat(DtlsIdentity.generate().fingerprint()).isNotEqualTo(first.fingerprint());
  }

  @Test
  void anOfferMadeWithItCarriesItsFingerprint() {
    DtlsIdentity identity = DtlsIdentity.loadOrCreate(state);
    PeerLink link = PeerLink.offerer(List.of(), identity, List.of("echo")).block();
    try {
      String offer = link.createOffer().block(Duration.ofSeconds(10));

      assertThat(Sdp.fingerprint(offer)).isEqualTo(identity.fingerprint());
    } finally {
      link.close().block(Duration.ofSeconds(10));
    }
  }
}
