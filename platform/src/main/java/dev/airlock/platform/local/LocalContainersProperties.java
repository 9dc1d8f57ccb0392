package dev.airlock.platform.local;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * What {@code ./airlock start} registers when it runs a provisioner on this host ({@code
 * airlock.local.*}). Nothing is registered unless {@code provisionerUrl} is set; the start script
 * sets it only when a Docker Engine answers.
 *
 * @param provisionerUrl the local provisioner's {@code https://} URL; empty: register nothing
 * @param provisionerName the name it is registered under
 * @param maxContainers the most containers it is given
 * @param imageName the browser image's name
 * @param imageReference the Docker image it runs, built by {@code deploy/images/build.sh}
 * @param startUrl the page Chromium opens (the image's {@code START_URL}, editable by requesters)
 */
@ConfigurationProperties("airlock.local")
public record LocalContainersProperties(
    @DefaultValue("") String provisionerUrl,
    @DefaultValue("local") String provisionerName,
    @DefaultValue("20") int maxContainers,
    @DefaultValue("chromium") String imageName,
    @DefaultValue("airlock/rbi-chromium:dev") String imageReference,
    @DefaultValue("https://example.org") String startUrl) {

  public LocalContainersProperties {
    provisionerUrl = provisionerUrl.strip().replaceAll("/+$", "");
    if (!provisionerUrl.isEmpty() && !provisionerUrl.startsWith("https://")) {
      throw new IllegalArgumentException(
          "airlock.local.provisioner-url: "
              + provisionerUrl
              + " (expected: empty, or the provisioner's https:// URL such as"
              + " https://127.0.0.1:8443)");
    }
    if (maxContainers < 1) {
      throw new IllegalArgumentException(
          "airlock.local.max-containers: " + maxContainers + " (expected: 1 or more)");
    }
  }

  /** True when a local provisioner is to be registered. */
  public boolean enabled() {
    return !provisionerUrl.isEmpty();
  }
}
