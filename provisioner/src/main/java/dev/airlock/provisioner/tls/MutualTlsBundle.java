package dev.airlock.provisioner.tls;

import dev.airlock.provisioner.ProvisionerProperties;
import org.springframework.boot.autoconfigure.ssl.SslBundleRegistrar;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleRegistry;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;
import org.springframework.stereotype.Component;

/**
 * Registers the SSL bundle {@value #NAME} that the HTTPS server uses ({@code server.ssl.bundle}):
 * this server's certificate and key, and as trust store the CA that client certificates must chain
 * to ({@code server.ssl.client-auth=need}). The files are checked when the settings are bound, so a
 * missing one stops the start with its name.
 */
@Component
public class MutualTlsBundle implements SslBundleRegistrar {

  /** The bundle's name in {@code server.ssl.bundle}. */
  public static final String NAME = "airlock-provisioner";

  private final ProvisionerProperties.Tls tls;

  public MutualTlsBundle(ProvisionerProperties properties) {
    this.tls = properties.tls();
  }

  @Override
  public void registerBundles(SslBundleRegistry registry) {
    PemSslStoreDetails keyStore =
        PemSslStoreDetails.forCertificate(location(tls.certFile().toString()))
            .withPrivateKey(location(tls.keyFile().toString()));
    PemSslStoreDetails trustStore =
        PemSslStoreDetails.forCertificate(location(tls.caFile().toString()));
    registry.registerBundle(NAME, SslBundle.of(new PemSslStoreBundle(keyStore, trustStore)));
  }

  private static String location(String path) {
    return "file:" + path;
  }
}
