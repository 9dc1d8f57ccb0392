package dev.airlock.platform.signalnode;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.user.ServiceAccountKeys;
import java.nio.file.Path;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * For a signal node on the same host (the all-in-one mode): at start, when {@code
 * <data-dir>/signal-node-key} does not exist, makes sure the built-in account {@code signal-node}
 * (role {@code signal-node}, a random password nobody is told) exists, gives it a new API key and
 * writes that key to the file (mode 0600). Nodes elsewhere get a key an administrator creates for a
 * user holding the {@code signal-node} role.
 */
@Component
public class SignalNodeAccount {

  /** The built-in account's username. */
  public static final String USERNAME = "signal-node";

  private static final ServiceAccountKeys.Account ACCOUNT =
      new ServiceAccountKeys.Account(
          USERNAME, USERNAME, "Signal nodes on this host", "local signal node");

  private final ServiceAccountKeys keys;
  private final AirlockProperties properties;

  public SignalNodeAccount(ServiceAccountKeys keys, AirlockProperties properties) {
    this.keys = keys;
    this.properties = properties;
  }

  /** The key file, or null when none is wanted. */
  public Path keyFile() {
    String name = properties.signal().keyFile();
    return name.isBlank() ? null : properties.dataDir().toAbsolutePath().normalize().resolve(name);
  }

  /** Writes the key file unless it exists; emits the file (empty when none is wanted). */
  public Mono<Path> ensureKeyFile() {
    Path file = keyFile();
    return file == null ? Mono.empty() : keys.ensureKeyFile(ACCOUNT, file);
  }
}
