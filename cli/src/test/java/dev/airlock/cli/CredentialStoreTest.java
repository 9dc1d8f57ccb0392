package dev.airlock.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.airlock.sdk.model.TokenPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CredentialStoreTest {

  private static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");

  @TempDir Path temp;

  private static StoredLogin login() {
    return StoredLogin.of(
        "https://airlock.example.com",
        "alice",
        new TokenPair(
            "eyJaccess.eyJpayload.sig",
            "refresh-secret",
            TokenPair.TokenTypeEnum.BEARER,
            900,
            86_400,
            false),
        NOW);
  }

  @Test
  void aSavedLoginReadsBackWithTheInstantsItsTokensExpire() {
    CredentialStore store = new CredentialStore(temp.resolve("airlock"));

    store.save(login());

    StoredLogin read = store.load().orElseThrow();
    assertThat(read).usingRecursiveComparison().isEqualTo(login());
    assertThat(read.accessTokenExpiresAt()).isEqualTo(NOW.plusSeconds(900));
    assertThat(read.refreshTokenExpiresAt()).isEqualTo(NOW.plusSeconds(86_400));
    assertThat(read.accessTokenUsableAt(NOW.plusSeconds(869))).isTrue();
    assertThat(read.accessTokenUsableAt(NOW.plusSeconds(871))).isFalse();
  }

  @Test
  void theDirectoryIsPrivateAndTheFileReadableByItsOwnerOnly() throws Exception {
    Path directory = temp.resolve("existing");
    Files.createDirectory(
        directory,
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    CredentialStore store = new CredentialStore(directory);

    store.save(login());
    store.save(login());

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory)))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(store.file())))
        .isEqualTo("rw-------");
    try (var files = Files.list(directory)) {
      // No temporary file left behind; the lock file appears only when a refresh takes it.
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("credentials.json");
    }
  }

  @Test
  void anUnreadableFileIsACredentialsErrorSayingWhatToDo() throws Exception {
    CredentialStore store = new CredentialStore(temp);
    Files.writeString(store.file(), "{\"url\":\"https://a.example\"");

    assertThatThrownBy(store::load)
        .isInstanceOfSatisfying(
            CliException.class, e -> assertThat(e.exitStatus()).isEqualTo(ExitStatus.CREDENTIALS))
        .hasMessageContaining(store.file().toString())
        .hasMessageContaining("run 'airlock logout' and 'airlock login' again");
  }

  @Test
  void aFileMissingFieldsIsUnreadableToo() throws Exception {
    CredentialStore store = new CredentialStore(temp);
    Files.writeString(store.file(), "{\"url\":\"https://a.example\",\"username\":\"alice\"}");

    assertThatThrownBy(store::load).hasMessageContaining("fields missing");
  }

  @Test
  void deleteForgetsTheLogin() {
    CredentialStore store = new CredentialStore(temp);
    store.save(login());

    assertThat(store.delete()).isTrue();
    assertThat(store.load()).isEmpty();
    assertThat(store.delete()).isFalse();
  }

  @Test
  void theConfigurationDirectoryComesFromTheEnvironment() {
    CliContext configured =
        new CliContext(
            Map.of("AIRLOCK_CONFIG_DIR", "/srv/ci/airlock", "XDG_CONFIG_HOME", "/x"),
            null,
            null,
            null,
            null);
    CliContext xdg =
        new CliContext(Map.of("XDG_CONFIG_HOME", "/home/a/.cfg"), null, null, null, null);
    CliContext plain = new CliContext(Map.of(), null, null, null, null);

    assertThat(CredentialStore.of(configured).file())
        .isEqualTo(Path.of("/srv/ci/airlock/credentials.json"));
    assertThat(CredentialStore.of(xdg).file())
        .isEqualTo(Path.of("/home/a/.cfg/airlock/credentials.json"));
    assertThat(CredentialStore.of(plain).file())
        .isEqualTo(
            Path.of(System.getProperty("user.home"), ".config", "airlock", "credentials.json"));
  }

  @Test
  void aLoginPrintsWithoutItsTokens() {
    assertThat(login().toString())
        .contains("alice", "https://airlock.example.com")
        .doesNotContain("eyJ", "refresh-secret");
  }
}
