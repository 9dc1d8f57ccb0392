package dev.airlock.agent.tunnel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.protocol.message.TunnelTarget;
import org.junit.jupiter.api.Test;

class TunnelTargetsTest {

  @Test
  void declaredTargetsAreNamedAsUsersAskForThemAndKeepTheirAddressesToThemselves() {
    TunnelTargets targets =
        TunnelTargets.parse(
            "22",
            "wiki=http://127.0.0.1:8088, grafana=https://10.0.0.5:3000",
            "6443,db.internal:5432");

    assertThat(targets.all())
        .extracting(TunnelTargets.Target::name)
        .containsExactly("ssh", "app:wiki", "app:grafana", "tcp:6443", "tcp:5432");
    assertThat(targets.get("ssh").address()).isEqualTo("127.0.0.1:22");
    assertThat(targets.get("app:grafana").address()).isEqualTo("10.0.0.5:3000");
    assertThat(targets.get("tcp:5432").address()).isEqualTo("db.internal:5432");
    assertThat(targets.get("tcp:22")).as("not declared").isNull();
    assertThat(targets.wire())
        .extracting(TunnelTarget::getName, TunnelTarget::getKind)
        .contains(
            org.assertj.core.groups.Tuple.tuple("ssh", TunnelTarget.KindEnum.SSH),
            org.assertj.core.groups.Tuple.tuple("app:wiki", TunnelTarget.KindEnum.APP));
    assertThat(targets.wire().toString()).doesNotContain("10.0.0.5").doesNotContain("db.internal");
  }

  @Test
  void nothingDeclaredMeansNothingReachable() {
    assertThat(TunnelTargets.parse(null, " ", null).isEmpty()).isTrue();
  }

  @Test
  void malformedSettingsSayWhichAndWhatWasExpected() {
    assertThatThrownBy(() -> TunnelTargets.parse("ssh-port", null, null))
        .hasMessageContaining("ssh: ssh-port")
        .hasMessageContaining("expected: PORT or HOST:PORT");
    assertThatThrownBy(() -> TunnelTargets.parse(null, "Wiki=ftp://x", null))
        .hasMessageContaining("apps: Wiki=ftp://x")
        .hasMessageContaining("NAME=http://HOST:PORT");
    assertThatThrownBy(() -> TunnelTargets.parse(null, null, "70000"))
        .hasMessageContaining("1..65535");
    assertThatThrownBy(() -> TunnelTargets.parse(null, null, "6443,10.0.0.1:6443"))
        .hasMessageContaining("tcp:6443 is declared twice");
  }
}
