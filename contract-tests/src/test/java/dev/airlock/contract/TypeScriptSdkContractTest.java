package dev.airlock.contract;

import static dev.airlock.contract.harness.ContractPlatform.ADMIN_USERNAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.airlock.contract.harness.ContractPlatform;
import dev.airlock.contract.harness.ContractTest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * Runs the TypeScript SDK's contract suite ({@code contract-tests/typescript}, {@code npm test})
 * against the same platform, through the same validating proxy, as the admin.
 */
@ContractTest
@Order(Integer.MAX_VALUE - 1)
class TypeScriptSdkContractTest {

  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(4);
  private static final Duration TEST_TIMEOUT = Duration.ofMinutes(3);

  @Test
  void theTypeScriptSuitePasses(ContractPlatform platform) throws Exception {
    Path suite = suiteDirectory();
    assertThat(suite.resolve("package.json"))
        .as("the TypeScript contract suite's package.json")
        .isRegularFile();
    Map<String, String> environment =
        Map.of(
            "AIRLOCK_BASE_URL",
            platform.baseUrl(),
            "AIRLOCK_ADMIN_USERNAME",
            ADMIN_USERNAME,
            "AIRLOCK_ADMIN_PASSWORD",
            platform.adminPassword(),
            "CI",
            "true");

    run(suite, environment, INSTALL_TIMEOUT, List.of("npm", "ci", "--no-audit", "--no-fund"));
    run(suite, environment, TEST_TIMEOUT, List.of("npm", "test"));
  }

  /** Runs the command, streaming its output to this test's log; fails on a non-zero exit. */
  private static void run(
      Path directory, Map<String, String> environment, Duration timeout, List<String> command)
      throws IOException, InterruptedException {
    String name = String.join(" ", command);
    ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile());
    builder.environment().putAll(environment);
    builder.redirectErrorStream(true);
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      fail("cannot run `" + name + "` in " + directory + " (is Node.js with npm installed?)", e);
      return;
    }
    Thread pump =
        new Thread(
            () -> {
              try (BufferedReader output =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = output.readLine(); line != null; line = output.readLine()) {
                  System.out.println("[" + name + "] " + line);
                }
              } catch (IOException ignored) {
                // The process ended; its exit status tells the rest.
              }
            },
            "output of " + name);
    pump.setDaemon(true);
    pump.start();
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      fail("`" + name + "` did not finish within " + timeout.toSeconds() + " s");
    }
    pump.join(5_000);
    assertThat(process.exitValue()).as("exit status of `%s` (its output is above)", name).isZero();
  }

  private static Path suiteDirectory() {
    String configured = System.getProperty("airlock.contract.typescript.dir");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("typescript"))
        ? here.resolve("typescript")
        : here.resolve("contract-tests/typescript");
  }
}
