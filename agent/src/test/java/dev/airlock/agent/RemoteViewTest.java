package dev.airlock.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.airlock.agent.display.Display;
import dev.airlock.peer.Channel;
import dev.airlock.peer.DtlsIdentity;
import dev.airlock.peer.PeerLink;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SdpType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.protocol.message.SignalMessage.ClipboardEnum;
import dev.airlock.protocol.message.SignalMessage.EventEnum;
import dev.airlock.protocol.message.SignalMessage.ModeEnum;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The remote view end to end on a private Xvfb: a Java viewer (an offering {@link PeerLink} with a
 * recvonly video m-line and the control, input and clipboard channels) against the real {@link
 * AgentSession}, {@link ChannelServices} and display code, with the signal node replaced by direct
 * calls. What is checked is what a user notices on either side of the screen.
 */
class RemoteViewTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static VirtualDisplay x;
  private static ChannelServices services;
  private static ChannelServices readOnlyAgent;

  @BeforeAll
  static void startDisplay() throws Exception {
    x = VirtualDisplay.start(1280, 720);
    Display display = new Display(x.name, 15, true);
    AgentState state = AgentState.open(Files.createTempDirectory("agent-state"));
    services = new ChannelServices(state, "test-host", display, ClipboardPolicy.BOTH);
    readOnlyAgent = new ChannelServices(state, "test-host", display, ClipboardPolicy.READ);
  }

  @AfterAll
  static void stopDisplay() throws Exception {
    // Xlib ends the process when a connection's server dies: every capture, watcher and injector
    // thread must be gone first.
    Thread.sleep(500);
    if (x != null) {
      x.close();
    }
  }

  @Test
  void theViewerSeesTheScreenAndItsInputAndClipboardReachTheDisplay() throws Exception {
    try (Viewer viewer = Viewer.connect(services, open(ModeEnum.CONTROL, null, 0, 30), true)) {
      JsonNode hello = viewer.control("hello");
      assertThat(hello.path("width").asInt()).isEqualTo(1280);
      assertThat(hello.path("height").asInt()).isEqualTo(720);
      assertThat(hello.path("mode").asString()).isEqualTo("control");
      assertThat(hello.path("clipboard").asString()).isEqualTo("both");

      x.run("xsetroot", "-solid", "red");
      PeerLink.ReceivedFrame red = viewer.frameWhere(rgb -> isRed(rgb));
      assertThat(red.width()).isEqualTo(1280);
      assertThat(red.height()).isEqualTo(720);
      x.run("xsetroot", "-solid", "green");
      viewer.frameWhere(rgb -> isGreen(rgb));

      viewer.input(Map.of("type", "move", "x", 640, "y", 360));
      awaitPointer(640, 360);
      viewer.input(Map.of("type", "button", "button", 1, "down", true, "x", 100, "y", 50));
      viewer.input(Map.of("type", "button", "button", 1, "down", false, "x", 100, "y", 50));
      awaitPointer(100, 50);

      x.feed("copied on the display", "xclip", "-selection", "clipboard", "-i");
      assertThat(viewer.clipboard("text").path("text").asString())
          .isEqualTo("copied on the display");
      assertThat(viewer.event(EventEnum.CLIPBOARD_READ).getBytes()).isEqualTo(21);

      viewer.clipboard(Map.of("type", "text", "text", "pasted by the viewer"));
      assertThat(viewer.event(EventEnum.CLIPBOARD_WRITE).getBytes()).isEqualTo(20);
      assertThat(x.run("xclip", "-selection", "clipboard", "-o")).isEqualTo("pasted by the viewer");
    }
  }

  @Test
  void aStillScreenIsSentAtTheRefreshRateAndAChangeAtOnce() throws Exception {
    try (Viewer viewer = Viewer.connect(services, open(ModeEnum.CONTROL, null, 0, 30), true)) {
      x.run("xsetroot", "-solid", "red");
      viewer.frameWhere(rgb -> isRed(rgb));
      // Nothing changes for 3 s: a frame every 200 ms (about 15), not the 45 of 15 fps.
      long still = viewer.framesDuring(Duration.ofSeconds(3));
      assertThat(still).isBetween(5L, 25L);
      x.run("xsetroot", "-solid", "green");
      viewer.frameWhere(rgb -> isGreen(rgb));
    }
  }

  @Test
  void aServerWithoutDamageIsGrabbedAtTheFullFrameRate() throws Exception {
    VirtualDisplay plain = VirtualDisplay.start(640, 480, List.of("-extension", "DAMAGE"));
    try {
      ChannelServices onPlain =
          new ChannelServices(
              AgentState.open(Files.createTempDirectory("agent-state")),
              "test-host",
              new Display(plain.name, 15, false),
              ClipboardPolicy.BOTH);
      try (Viewer viewer = Viewer.connect(onPlain, open(ModeEnum.CONTROL, null, 0, 30), true)) {
        plain.run("xsetroot", "-solid", "red");
        viewer.frameWhere(rgb -> isRed(rgb));
        // Nothing changes, but nothing says so either: 15 fps (about 45 in 3 s), not 5.
        assertThat(viewer.framesDuring(Duration.ofSeconds(3))).isGreaterThan(30L);
      }
    } finally {
      // Xlib ends the process when a connection's server dies: the capture must be gone first.
      Thread.sleep(500);
      plain.close();
    }
  }

  @Test
  void aViewOnlySessionMovesNothingAndMayNotWriteTheClipboard() throws Exception {
    x.run("xdotool", "mousemove", "10", "10");
    try (Viewer viewer = Viewer.connect(services, open(ModeEnum.VIEW, null, 0, 30), false)) {
      assertThat(viewer.control("hello").path("mode").asString()).isEqualTo("view");
      viewer.input(Map.of("type", "move", "x", 500, "y", 400));
      viewer.clipboard(Map.of("type", "text", "text", "nope"));
      assertThat(viewer.clipboard("refused").path("reason").asString()).contains("view");
      assertThat(viewer.event(EventEnum.CLIPBOARD_REFUSED).getBytes()).isEqualTo(4);
      assertThat(x.pointer()).containsExactly(10, 10);
    }
  }

  @Test
  void theAgentsOwnClipboardPolicyNarrowsThePlatforms() throws Exception {
    try (Viewer viewer =
        Viewer.connect(readOnlyAgent, open(ModeEnum.CONTROL, ClipboardEnum.BOTH, 0, 30), false)) {
      assertThat(viewer.control("hello").path("clipboard").asString()).isEqualTo("read");
      viewer.clipboard(Map.of("type", "text", "text", "nope"));
      assertThat(viewer.clipboard("refused").path("reason").asString()).contains("read");
    }
  }

  @Test
  void anIdleSessionIsWarnedThenEnded() throws Exception {
    try (Viewer viewer = Viewer.connect(services, open(ModeEnum.CONTROL, null, 2, 30), false)) {
      viewer.control("hello");
      assertThat(viewer.control("idle-warning").path("secondsLeft").asInt()).isBetween(1, 2);
      assertThat(viewer.control("bye").path("reason").asString()).isEqualTo("idle");
      viewer.event(EventEnum.IDLE_DISCONNECT);
      assertThat(viewer.closedByAgent()).isEqualTo("idle");
    }
  }

  @Test
  void aSecondViewerIsGrantedWhenTheOwnerDoesNotAnswerAndEndedWhenTheOwnerRefuses()
      throws Exception {
    try (Viewer owner = Viewer.connect(services, open(ModeEnum.CONTROL, null, 0, 30), false)) {
      owner.control("hello");
      try (Viewer bob = Viewer.connect(services, open(ModeEnum.VIEW, null, 0, 1), false)) {
        assertThat(bob.control("waiting-consent").path("timeoutSeconds").asInt()).isEqualTo(1);
        JsonNode request = owner.control("consent-request");
        assertThat(request.path("username").asString()).isEqualTo("bob");
        assertThat(request.path("mode").asString()).isEqualTo("view");
        bob.control("consent-granted");
        assertThat(bob.control("hello").path("mode").asString()).isEqualTo("view");
        bob.event(EventEnum.CONSENT_GRANTED);
      }
      try (Viewer eve = Viewer.connect(services, open(ModeEnum.CONTROL, null, 0, 30), false)) {
        eve.control("waiting-consent");
        JsonNode request = owner.control("consent-request");
        owner.control(
            Map.of(
                "type",
                "consent",
                "requestId",
                request.path("requestId").asString(),
                "granted",
                false));
        assertThat(eve.control("bye").path("reason").asString()).isEqualTo("consent denied");
        eve.event(EventEnum.CONSENT_DENIED);
        assertThat(eve.closedByAgent()).isEqualTo("consent denied");
      }
    }
  }

  private static void awaitPointer(int px, int py) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    int[] at = x.pointer();
    while ((at[0] != px || at[1] != py) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      at = x.pointer();
    }
    assertThat(at).containsExactly(px, py);
  }

  private static boolean isRed(int rgb) {
    return (rgb >> 16 & 0xff) > 200 && (rgb >> 8 & 0xff) < 60 && (rgb & 0xff) < 60;
  }

  private static boolean isGreen(int rgb) {
    // X's "green" is 0x00ff00.
    return (rgb >> 16 & 0xff) < 60 && (rgb >> 8 & 0xff) > 200 && (rgb & 0xff) < 60;
  }

  private static SignalMessage open(
      ModeEnum mode, ClipboardEnum clipboard, int idleSeconds, int consentSeconds) {
    return new SignalMessage()
        .type(MessageType.SESSION_OPEN)
        .sessionId(UUID.randomUUID())
        .mode(mode)
        .username(mode == ModeEnum.VIEW ? "bob" : "alice")
        .clipboard(clipboard)
        .idleSeconds(idleSeconds)
        .consentSeconds(consentSeconds);
  }

  /** A viewer connected to a real {@link AgentSession} through direct calls in place of signal. */
  static final class Viewer implements AutoCloseable {
    private final PeerLink link;
    private final AgentSession session;
    private final BlockingQueue<SignalMessage> events;
    private final BlockingQueue<String> endedByAgent;
    private final BlockingQueue<JsonNode> control = new LinkedBlockingQueue<>();
    private final BlockingQueue<JsonNode> clipboard = new LinkedBlockingQueue<>();

    private Viewer(
        PeerLink link,
        AgentSession session,
        BlockingQueue<SignalMessage> events,
        BlockingQueue<String> endedByAgent) {
      this.link = link;
      this.session = session;
      this.events = events;
      this.endedByAgent = endedByAgent;
    }

    static Viewer connect(ChannelServices services, SignalMessage open, boolean video)
        throws Exception {
      PeerLink link =
          PeerLink.offerer(List.of(), null, List.of("control", "input", "clipboard"), video)
              .block(WAIT);
      BlockingQueue<SignalMessage> events = new LinkedBlockingQueue<>();
      BlockingQueue<String> ended = new LinkedBlockingQueue<>();
      AgentSession[] session = new AgentSession[1];
      session[0] =
          new AgentSession(
              open,
              message -> {
                switch (message.getType()) {
                  case SDP -> link.acceptAnswer(message.getSdp()).subscribe();
                  case ICE ->
                      link.addRemoteCandidate(
                          new PeerLink.IceCandidate(
                              message.getSdpMid(),
                              message.getSdpMLineIndex() == null ? 0 : message.getSdpMLineIndex(),
                              message.getCandidate()));
                  case SESSION_CLOSE -> ended.add(message.getReason());
                  default -> events.add(message);
                }
              },
              null,
              DtlsIdentity.generate(),
              services,
              id -> {});
      Viewer viewer = new Viewer(link, session[0], events, ended);
      viewer.collect("control", viewer.control);
      viewer.collect("clipboard", viewer.clipboard);
      link.localCandidates()
          .subscribe(
              candidate ->
                  session[0].onMessage(
                      new SignalMessage()
                          .type(MessageType.ICE)
                          .sessionId(open.getSessionId())
                          .candidate(candidate.candidate())
                          .sdpMid(candidate.sdpMid())
                          .sdpMLineIndex(candidate.sdpMLineIndex())));
      String offer = link.createOffer().block(WAIT);
      session[0].onMessage(
          new SignalMessage()
              .type(MessageType.SDP)
              .sessionId(open.getSessionId())
              .sdpType(SdpType.OFFER)
              .sdp(offer));
      link.connected().block(WAIT);
      return viewer;
    }

    private void collect(String label, BlockingQueue<JsonNode> into) {
      link.channel(label)
          .messages()
          .subscribe(
              buffer -> into.add(JSON.readTree(StandardCharsets.UTF_8.decode(buffer).toString())));
    }

    JsonNode control(String type) throws InterruptedException {
      return next(control, type);
    }

    JsonNode clipboard(String type) throws InterruptedException {
      return next(clipboard, type);
    }

    private static JsonNode next(BlockingQueue<JsonNode> queue, String type)
        throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (true) {
        JsonNode message = queue.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        assertThat(message).as("a %s message", type).isNotNull();
        if (type.equals(message.path("type").asString())) {
          return message;
        }
      }
    }

    SignalMessage event(EventEnum event) throws InterruptedException {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (true) {
        SignalMessage message = events.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        assertThat(message).as("a session.event %s", event).isNotNull();
        if (message.getType() == MessageType.SESSION_EVENT && message.getEvent() == event) {
          return message;
        }
      }
    }

    String closedByAgent() throws InterruptedException {
      return endedByAgent.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    void input(Map<String, ?> message) {
      send("input", message);
    }

    void clipboard(Map<String, ?> message) {
      send("clipboard", message);
    }

    void control(Map<String, ?> message) {
      send("control", message);
    }

    private void send(String label, Map<String, ?> message) {
      Channel channel = link.channel(label);
      channel.send(ByteBuffer.wrap(JSON.writeValueAsBytes(message))).block(WAIT);
    }

    PeerLink.ReceivedFrame frameWhere(java.util.function.IntPredicate centre) {
      return link.videoFrames(true)
          .filter(frame -> centre.test(frame.rgb(frame.width() / 2, frame.height() / 2)))
          .blockFirst(WAIT);
    }

    long framesDuring(Duration window) {
      return link.videoFrames(false).take(window).count().block(window.plus(WAIT));
    }

    @Override
    public void close() {
      session.end("test over");
      link.close().block(WAIT);
    }
  }
}
