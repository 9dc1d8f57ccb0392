package dev.airlock.platform.cluster;

import dev.airlock.platform.AirlockProperties;
import dev.airlock.platform.user.ServiceAccountKeys;
import java.nio.file.Path;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * As a leaf cluster ({@code airlock.trust.root} set): at start, when {@code
 * <data-dir>/cluster-link-key} does not exist, makes sure the link's account ({@code
 * airlock.trust.link-user}, by default the built-in {@code cluster-link} with the role of that
 * name, which allows nothing by itself) exists, gives it a new API key and writes the key to the
 * file (mode 0600), for the link that {@code ./airlock start --trust-root} runs beside the
 * platform.
 */
@Component
public class ClusterLinkAccount {

  /** The key file's name in the data directory. */
  public static final String KEY_FILE = "cluster-link-key";

  /** The built-in role of the link's account. */
  public static final String ROLE = "cluster-link";

  private final ServiceAccountKeys keys;
  private final AirlockProperties properties;

  public ClusterLinkAccount(ServiceAccountKeys keys, AirlockProperties properties) {
    this.keys = keys;
    this.properties = properties;
  }

  /** Writes the key file unless it exists; emits it (empty when this cluster is no leaf). */
  public Mono<Path> ensureKeyFile() {
    AirlockProperties.Trust trust = properties.trust();
    if (!trust.leaf()) {
      return Mono.empty();
    }
    Path file = properties.dataDir().toAbsolutePath().normalize().resolve(KEY_FILE);
    return keys.ensureKeyFile(
        new ServiceAccountKeys.Account(
            trust.linkUser(),
            ROLE,
            "The link of this leaf cluster to its root, " + trust.root(),
            "cluster link to " + trust.root()),
        file);
  }
}
