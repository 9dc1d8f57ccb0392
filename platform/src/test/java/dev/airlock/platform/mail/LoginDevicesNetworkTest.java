package dev.airlock.platform.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** A device's network: the /24 of an IPv4 address, the /64 of an IPv6 one. */
class LoginDevicesNetworkTest {

  @Test
  void addressesInOneNetworkAreOneDevice() throws Exception {
    assertThat(LoginDevices.network(InetAddress.getByName("192.0.2.77"))).isEqualTo("192.0.2.0/24");
    assertThat(LoginDevices.network(InetAddress.getByName("192.0.2.200")))
        .isEqualTo("192.0.2.0/24");
    assertThat(LoginDevices.network(InetAddress.getByName("192.0.3.1"))).isEqualTo("192.0.3.0/24");
    assertThat(LoginDevices.network(InetAddress.getByName("2001:db8:aa:bb:1:2:3:4")))
        .isEqualTo("2001:db8:aa:bb:0:0:0:0/64");
    assertThat(LoginDevices.network(InetAddress.getByName("::ffff:198.51.100.9")))
        .as("an IPv4-mapped address is its IPv4 address")
        .isEqualTo("198.51.100.0/24");
    assertThat(LoginDevices.network(null)).isEqualTo("unknown");
  }
}
