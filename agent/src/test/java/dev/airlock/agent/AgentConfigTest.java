package dev.airlock.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentConfigTest {

  @TempDir Path dir;

  @Test
  void argumentsBeatTheEnvironmentWhichBeatsTheFile() throws Exception {
    Path file = dir.resolve("agent.properties");
    Files.writeString(
        file,
        "signal-url=ws://file:8081\njoin-token=from-file\nstate-dir=/from/file\nhostname=file\n");

    AgentConfig config =
        AgentConfig.load(
            new String[] {"--config", file.toString(), "--hostname=from-args"},
            Map.of(
                "AIRLOCK_AGENT_SIGNAL_URL", "wss://env.example.com/",
                "AIRLOCK_AGENT_HOSTNAME", "from-env",
                "AIRLOCK_AGENT_JOIN_TOKEN", "from-env"));

    assertThat(config.signalUrl()).hasToString("wss://env.example.com");
    assertThat(config.agentEndpoint()).hasToString("wss://env.example.com/signal/v1/agent");
    assertThat(config.joinToken()).isEqualTo("from-env");
    assertThat(config.stateDir()).isEqualTo(Path.of("/from/file"));
    assertThat(config.hostname()).isEqualTo("from-args");
    assertThat(config.toString()).doesNotContain("from-env").contains("joinToken=***");
  }

  @Test
  void defaultsTheStateDirectoryAndHostname() {
    AgentConfig config = AgentConfig.load(new String[] {"--signal-url=ws://node:8081"}, Map.of());

    assertThat(config.stateDir()).isEqualTo(AgentConfig.DEFAULT_STATE_DIR);
    assertThat(config.hostname()).isNotBlank();
    assertThat(config.joinToken()).isNull();
    assertThat(config.resize()).as("a person's desktop keeps its resolution").isFalse();
    assertThat(config.fps()).isEqualTo(AgentConfig.DEFAULT_FPS);
  }

  @Test
  void readsTheDisplaySettingsAndRefusesBadOnes() {
    AgentConfig config =
        AgentConfig.load(
            new String[] {"--signal-url=ws://node:8081", "--display=:7", "--fps=15"},
            Map.of("AIRLOCK_AGENT_RESIZE", "true", "AIRLOCK_AGENT_CLIPBOARD", "read"));
    assertThat(config.display()).isEqualTo(":7");
    assertThat(config.fps()).isEqualTo(15);
    assertThat(config.resize()).isTrue();
    assertThat(config.clipboard()).isEqualTo(ClipboardPolicy.READ);

    assertThatThrownBy(
            () -> AgentConfig.load(new String[] {"--signal-url=ws://n", "--resize=yes"}, Map.of()))
        .hasMessage("resize: yes (expected: true or false)");
    assertThatThrownBy(
            () -> AgentConfig.load(new String[] {"--signal-url=ws://n", "--fps=90"}, Map.of()))
        .hasMessageContaining("expected: a whole number of frames per second, 1..60");
    assertThatThrownBy(
            () -> AgentConfig.load(new String[] {"--signal-url=ws://n", "--display=x"}, Map.of()))
        .hasMessageContaining("expected: an X display such as :0");
  }

  @Test
  void refusesUnknownKeysAndBadUrls() {
    assertThatThrownBy(() -> AgentConfig.load(new String[] {"--colour=red"}, Map.of()))
        .hasMessageContaining("unknown key colour");
    assertThatThrownBy(() -> AgentConfig.load(new String[] {"--signal-url=http://x"}, Map.of()))
        .hasMessageContaining("expected: a ws:// or wss:// URL");
    assertThatThrownBy(() -> AgentConfig.load(new String[0], Map.of()))
        .hasMessageContaining("signal-url: missing");
  }

  @Test
  void aClusterLinkNeedsTheLeafsUrlAndKeyAndDeclaresNoTargets() throws Exception {
    Path key = dir.resolve("link.key");
    Files.writeString(key, "alk_secret");
    AgentConfig link =
        AgentConfig.load(
            new String[] {
              "--signal-url=wss://root:8081",
              "--leaf-url=http://127.0.0.1:8080",
              "--leaf-api-key-file=" + key
            },
            Map.of());
    assertThat(link.clusterLink()).isTrue();
    assertThat(link.leafUrl()).hasToString("http://127.0.0.1:8080");
    assertThat(link.toString()).doesNotContain("alk_secret");

    assertThatThrownBy(
            () ->
                AgentConfig.load(
                    new String[] {"--signal-url=ws://n", "--leaf-url=http://leaf:8080"}, Map.of()))
        .hasMessageContaining("leaf-api-key-file: missing");
    assertThatThrownBy(
            () ->
                AgentConfig.load(
                    new String[] {"--signal-url=ws://n", "--leaf-url=ws://leaf:8080"}, Map.of()))
        .hasMessageContaining(
            "expected: the http:// or https:// URL of this cluster's own platform");
    assertThatThrownBy(
            () ->
                AgentConfig.load(
                    new String[] {
                      "--signal-url=ws://n",
                      "--leaf-url=http://leaf:8080",
                      "--leaf-api-key-file=" + key,
                      "--ssh=22"
                    },
                    Map.of()))
        .hasMessageContaining("not both");
    assertThatThrownBy(
            () ->
                AgentConfig.load(
                    new String[] {"--signal-url=ws://n", "--leaf-api-key-file=" + key}, Map.of()))
        .hasMessageContaining("without leaf-url");
    assertThat(AgentConfig.load(new String[] {"--signal-url=ws://n"}, Map.of()).clusterLink())
        .isFalse();
  }
}
