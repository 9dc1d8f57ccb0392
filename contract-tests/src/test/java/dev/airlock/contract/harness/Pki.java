package dev.airlock.contract.harness;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** An internal CA and certificates made with {@code deploy/pki.sh}, the documented command. */
public final class Pki {

  private final Path script;
  private final Path dir;

  private Pki(Path script, Path dir) {
    this.script = script;
    this.dir = dir;
  }

  /** Creates the CA in {@code dir}. */
  public static Pki create(Path repo, Path dir) throws IOException, InterruptedException {
    Pki pki = new Pki(repo.resolve("deploy/pki.sh"), dir);
    DockerEngine.run(List.of(pki.script.toString(), "ca", dir.toString()), 60);
    return pki;
  }

  /** Issues a server certificate for {@code localhost}, 127.0.0.1 and {@code moreAddresses}. */
  public void server(String name, String... moreAddresses)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(
                script.toString(),
                "server",
                dir.toString(),
                name,
                "--dns",
                "localhost",
                "--ip",
                "127.0.0.1"));
    for (String address : moreAddresses) {
      command.addAll(List.of("--ip", address));
    }
    DockerEngine.run(command, 60);
  }

  /** Issues a client certificate. */
  public void client(String name) throws IOException, InterruptedException {
    DockerEngine.run(
        new ArrayList<>(List.of(script.toString(), "client", dir.toString(), name)), 60);
  }

  public Path ca() {
    return dir.resolve("ca.pem");
  }

  public Path cert(String name) {
    return dir.resolve(name + ".pem");
  }

  public Path key(String name) {
    return dir.resolve(name + "-key.pem");
  }
}
