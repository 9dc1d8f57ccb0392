package dev.airlock.provisioner;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.springframework.stereotype.Component;

/**
 * Who this provisioner is: its id, written in the {@code dev.airlock.provisioner} label of every
 * container it creates and the only one whose containers it lists, inspects and deletes.
 */
@Component
public class ThisProvisioner {

  private final String id;

  public ThisProvisioner(ProvisionerProperties properties) {
    this.id = properties.id().isEmpty() ? hostname() : properties.id();
  }

  /** The id: {@code airlock.provisioner.id}, or the host name when that is empty. */
  public String id() {
    return id;
  }

  private static String hostname() {
    // Resolved once on the main thread at start, never on an event loop.
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "provisioner";
    }
  }
}
