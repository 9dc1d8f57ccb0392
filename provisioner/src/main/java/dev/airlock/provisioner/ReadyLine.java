package dev.airlock.provisioner;

import dev.airlock.provisioner.container.ContainerBackends;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Prints {@code Airlock provisioner <id> listening on https://<host>:<port> (engine: Docker
 * <version>, <swarm|plain> mode)} on stdout once the server is up and the engine has answered, so
 * that scripts and tests starting it as a process know when to go on. When the engine does not
 * answer, the line says so instead; the provisioner still serves (with {@code 503}) and decides its
 * mode when the engine answers.
 */
@Component
public class ReadyLine implements ApplicationListener<ApplicationReadyEvent> {

  private final ThisProvisioner provisioner;
  private final ContainerBackends backends;
  private final Environment environment;

  public ReadyLine(
      ThisProvisioner provisioner, ContainerBackends backends, Environment environment) {
    this.provisioner = provisioner;
    this.backends = backends;
    this.environment = environment;
  }

  @Override
  public void onApplicationEvent(ApplicationReadyEvent event) {
    int port =
        event.getApplicationContext() instanceof WebServerApplicationContext web
            ? web.getWebServer().getPort()
            : environment.getProperty("server.port", Integer.class, 8443);
    String host = environment.getProperty("server.address", hostname());
    String listening =
        "Airlock provisioner " + provisioner.id() + " listening on https://" + host + ":" + port;
    backends
        .current()
        .subscribe(
            current ->
                print(
                    listening
                        + " (engine: Docker "
                        + current.facts().version()
                        + ", "
                        + current.backend().mode().getValue()
                        + " mode)"),
            error ->
                print(
                    listening
                        + " (engine: unavailable, "
                        + error.getMessage()
                        + "; mode decided when it answers)"));
  }

  private static void print(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }
}
