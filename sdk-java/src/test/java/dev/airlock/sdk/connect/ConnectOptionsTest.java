package dev.airlock.sdk.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.sdk.model.SessionMode;
import dev.airlock.sdk.model.SessionTransport;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectOptionsTest {

  @Test
  void defaultsToControlAutoEchoInfoAndTenSeconds() {
    ConnectOptions options = ConnectOptions.defaults();

    assertThat(options.mode()).isEqualTo(SessionMode.CONTROL);
    assertThat(options.transport()).isEqualTo(SessionTransport.AUTO);
    assertThat(options.channels()).containsExactly("echo", "info");
    assertThat(options.p2pTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(options.signalTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(options.withTransport(SessionTransport.RELAY).transport())
        .isEqualTo(SessionTransport.RELAY);
  }

  @Test
  void refusesEmptyDuplicateOrOverlongLabelsAndNonPositiveTimeouts() {
    ConnectOptions options = ConnectOptions.defaults();

    assertThatThrownBy(() -> options.withChannels(List.of()))
        .hasMessageContaining("at least one label");
    assertThatThrownBy(() -> options.withChannels(List.of("echo", "echo")))
        .hasMessageContaining("distinct");
    assertThatThrownBy(() -> options.withChannels(List.of("x".repeat(65))))
        .hasMessageContaining("1..64 bytes");
    assertThatThrownBy(() -> options.withP2pTimeout(Duration.ZERO))
        .hasMessageContaining("p2pTimeout: PT0S");
  }
}
