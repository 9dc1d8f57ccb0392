package dev.airlock.contract.portal;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.airlock.contract.harness.AuditTrail;
import dev.airlock.contract.harness.ContainerStack;
import dev.airlock.contract.harness.TestNetwork;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.ClipboardPolicy;
import dev.airlock.sdk.model.ContainerState;
import dev.airlock.sdk.model.ImageSpec;
import dev.airlock.sdk.model.ImageVariable;
import dev.airlock.sdk.model.IsolationLevel;
import dev.airlock.testkit.ManagedProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import tools.jackson.databind.json.JsonMapper;

/**
 * The product as a person uses it, in a real browser: Debian's Chromium, driven by playwright-core
 * from {@code portal/e2e/rbi.mjs} inside the client network namespace (WebRTC ignores loopback),
 * opens the portal served by the platform, logs in, launches a browser-isolation container (the RBI
 * image: Xvfb, Chromium and the agent, on the test Docker Engine), and sees the remote browser
 * render a page this test serves; a click in the video reaches that page, text copied there comes
 * out within the image's clipboard policy, and a {@code view} session's click changes nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PortalEndToEndContractTest {

  private static final Duration CALL = Duration.ofSeconds(30);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String IMAGE = "browser";

  private final AtomicInteger clicks = new AtomicInteger();
  private final AtomicReference<String> typed = new AtomicReference<>("");
  private final AuditTrail auditTrail = new AuditTrail(() -> this.stack.admin());
  private ContainerStack stack;
  private HttpServer page;
  private Path repo;

  /** How the provisioner runs the containers: {@code plain} here. */
  String provisionerMode() {
    return "plain";
  }

  @BeforeAll
  void start() throws Exception {
    TestNetwork.require();
    repo = Path.of(System.getProperty("airlock.repo.dir")).toAbsolutePath();
    Path work =
        Path.of(System.getProperty("airlock.contract.work.dir", "target/contract"))
            .toAbsolutePath()
            .resolve("portal-" + provisionerMode() + "-" + System.currentTimeMillis());
    stack =
        ContainerStack.start(
            work,
            TestNetwork.HUB,
            List.of(
                "--airlock.ice.stun-urls=" + TestNetwork.stunUrl(),
                "--airlock.containers.start-timeout=120s"),
            provisionerMode());
    stack
        .admin()
        .images()
        .createImage(
            new ImageSpec()
                .name(IMAGE)
                .reference("airlock/rbi-chromium:dev")
                .isolation(IsolationLevel.STANDARD)
                .clipboard(ClipboardPolicy.READ)
                .description("Chromium in a virtual display")
                .environment(
                    List.of(
                        new ImageVariable().name("START_URL").value("about:blank").editable(true))))
        .block(CALL);
    page = servePage(repo.resolve("portal/e2e/page/index.html"));
  }

  @AfterAll
  void stop() throws Exception {
    if (page != null) {
      page.stop(0);
    }
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void aPersonLaunchesTheBrowserContainerSeesItClicksInItCopiesOutAndAViewerCannotClick()
      throws Exception {
    String password = stack.user("carol", List.of("container-user"));
    Path screenshots = stack.work().resolve("screenshots");
    Files.createDirectories(screenshots);
    long since = auditTrail.newestSeq(null, null);

    ManagedProcess browser =
        ManagedProcess.start(
            "e2e",
            TestNetwork.CLIENT,
            List.of(
                "env",
                "AIRLOCK_E2E_URL=http://" + TestNetwork.HUB + ":" + stack.platformPort() + "/",
                "AIRLOCK_E2E_USERNAME=carol",
                "AIRLOCK_E2E_PASSWORD=" + password,
                "AIRLOCK_E2E_IMAGE=" + IMAGE,
                // The remote browser shares the host's network (the test engine's containers
                // do); the script, in the client namespace, reads the clicks through the hub.
                "AIRLOCK_E2E_PAGE_URL=http://127.0.0.1:" + page.getAddress().getPort() + "/",
                "AIRLOCK_E2E_CLICKS_URL="
                    + "http://"
                    + TestNetwork.HUB
                    + ":"
                    + page.getAddress().getPort()
                    + "/",
                "AIRLOCK_E2E_SCREENSHOTS=" + screenshots,
                "AIRLOCK_E2E_TIMEOUT_MS=180000",
                "AIRLOCK_E2E_CHROMIUM=" + chromium(),
                "node",
                repo.resolve("portal/e2e/rbi.mjs").toString()),
            stack.work().resolve("e2e.log"));
    int exit = browser.awaitExit(Duration.ofMinutes(6));
    assertThat(exit)
        .as("the browser script (see %s):%n%s", browser.log(), browser.outputTail())
        .isZero();

    List<String> steps =
        browser.lines().stream()
            .filter(line -> line.startsWith("{"))
            .map(line -> JSON.readTree(line))
            .filter(node -> node.has("step"))
            .map(node -> node.get("step").asString())
            .toList();
    assertThat(steps)
        .as("what the person did and saw")
        .contains(
            "login", "launch", "video", "rendered", "click", "copy", "type", "view-click-ignored");
    assertThat(clicks.get())
        .as("the control session's click reached the page; the view session's did not")
        .isEqualTo(1);
    assertThat(typed.get())
        .as("typed in the remote page (shifted keys by keysym); a view session's key added nothing")
        .isEqualTo("Hello, Airlock @ 42!");
    assertThat(screenshots.toFile().list()).isNotEmpty();

    AuditEvent copied = auditTrail.awaitEvent("session.clipboard", null, since);
    assertThat(copied).as("the copy out was audited").isNotNull();
    assertThat(copied.getActor()).isEqualTo("carol");
    assertThat(copied.getReason()).matches("clipboard\\.read, [1-9][0-9]* bytes");
    assertThat(
            stack
                .admin()
                .containers()
                .listContainers(null, true, null, null)
                .block(CALL)
                .getItems())
        .as("the script deleted its container")
        .allSatisfy(
            c -> assertThat(c.getState()).isIn(ContainerState.STOPPING, ContainerState.DELETED));
  }

  private String chromium() {
    String path = System.getenv("AIRLOCK_TEST_CHROMIUM");
    return path == null ? "/usr/bin/chromium" : path;
  }

  private HttpServer servePage(Path html) throws IOException {
    byte[] body = Files.readAllBytes(html);
    HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          switch (exchange.getRequestURI().getPath()) {
            case "/" -> reply(exchange, "text/html; charset=utf-8", body);
            case "/clicked" -> {
              clicks.incrementAndGet();
              reply(exchange, "application/json", "{}".getBytes(StandardCharsets.UTF_8));
            }
            case "/typed" -> {
              String query = exchange.getRequestURI().getRawQuery();
              typed.set(
                  query == null || !query.startsWith("text=")
                      ? ""
                      : URLDecoder.decode(query.substring(5), StandardCharsets.UTF_8));
              reply(exchange, "application/json", "{}".getBytes(StandardCharsets.UTF_8));
            }
            case "/clicks" ->
                reply(
                    exchange,
                    "application/json",
                    JSON.writeValueAsBytes(Map.of("clicked", clicks.get(), "typed", typed.get())));
            default -> {
              exchange.sendResponseHeaders(404, -1);
              exchange.close();
            }
          }
        });
    server.start();
    return server;
  }

  private static void reply(HttpExchange exchange, String type, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.sendResponseHeaders(200, body.length);
    try (var out = exchange.getResponseBody()) {
      out.write(body);
    }
  }
}
