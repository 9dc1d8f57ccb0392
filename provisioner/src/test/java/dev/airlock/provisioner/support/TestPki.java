package dev.airlock.provisioner.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made by deploy/pki.sh, once per test JVM: the deployment's CA with a server
 * certificate for localhost / 127.0.0.1 and a client certificate {@code platform}; and a forged CA
 * with the very same subject that also issued a {@code platform} client certificate.
 *
 * @param ca the real CA's certificate
 * @param serverCert the provisioner's certificate
 * @param serverKey its key
 * @param clientCert the platform's certificate
 * @param clientKey its key
 * @param forgedCert a {@code platform} certificate from the forged CA
 * @param forgedKey its key
 */
public record TestPki(
    Path ca,
    Path serverCert,
    Path serverKey,
    Path clientCert,
    Path clientKey,
    Path forgedCert,
    Path forgedKey) {

  private static TestPki made;

  /** The certificates, made on first use. */
  public static synchronized TestPki get() {
    if (made == null) {
      try {
        Path work =
            Path.of(
                System.getProperty(
                    "airlock.provisioner.test.work.dir",
                    System.getProperty("java.io.tmpdir") + "/airlock-provisioner-test"));
        Files.createDirectories(work);
        Path real = Files.createTempDirectory(work, "pki-");
        Path forged = Files.createTempDirectory(work, "forged-pki-");
        pki("ca", real.toString());
        pki("server", real.toString(), "provisioner", "--dns", "localhost", "--ip", "127.0.0.1");
        pki("client", real.toString(), "platform");
        pki("ca", forged.toString());
        pki("client", forged.toString(), "platform");
        made =
            new TestPki(
                real.resolve("ca.pem"),
                real.resolve("provisioner.pem"),
                real.resolve("provisioner-key.pem"),
                real.resolve("platform.pem"),
                real.resolve("platform-key.pem"),
                forged.resolve("platform.pem"),
                forged.resolve("platform-key.pem"));
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("deploy/pki.sh could not make the test certificates", e);
      }
    }
    return made;
  }

  private static void pki(String... args) throws IOException, InterruptedException {
    Path script = TestEngine.repoDir().resolve("deploy/pki.sh");
    List<String> command = new java.util.ArrayList<>(List.of(script.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
    }
  }
}
