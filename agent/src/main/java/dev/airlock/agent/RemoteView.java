package dev.airlock.agent;

import dev.airlock.agent.display.Clipboard;
import dev.airlock.agent.display.Display;
import dev.airlock.agent.display.InputInjector;
import dev.airlock.agent.display.ScreenCapture.Size;
import dev.airlock.peer.Channel;
import dev.airlock.protocol.message.MessageType;
import dev.airlock.protocol.message.SignalMessage;
import dev.airlock.protocol.message.SignalMessage.EventEnum;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The remote view of one session (docs/remote-view.md): its {@code control}, {@code input} and
 * {@code clipboard} channels, its mode and clipboard policy, whether it is granted yet (several
 * viewers), and its idle clock. Everything the viewer may do is checked here, whatever its UI
 * shows. Clipboard transfers and decisions are reported to the node as {@code session.event}s, with
 * sizes, never content.
 */
final class RemoteView {

  private static final Logger log = LoggerFactory.getLogger(RemoteView.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  static final Duration IDLE_WARNING = Duration.ofSeconds(60);
  static final Duration IDLE_TICK = Duration.ofMillis(250);
  static final Duration BYE_GRACE = Duration.ofSeconds(1);

  /** Where a view stands with respect to the owner's consent. */
  enum State {
    OPENED,
    WAITING,
    GRANTED,
    ENDED
  }

  private final UUID id;
  private final String username;
  private final boolean control;
  private final ClipboardPolicy policy;
  private final int idleSeconds;
  private final int consentSeconds;
  private final Display display;
  private final RemoteViews views;
  private final Consumer<SignalMessage> toNode;
  private final Consumer<String> endSession;
  private final Disposable.Composite running = Disposables.composite();
  private final Map<String, RemoteView> consentRequests = new LinkedHashMap<>();
  private State state = State.OPENED;
  private Channel controlChannel;
  private Channel clipboardChannel;
  private InputInjector injector;
  private Size sentSize;
  private volatile long lastInput = System.nanoTime();
  private volatile boolean idleWarned;

  RemoteView(
      SignalMessage open,
      ClipboardPolicy agentPolicy,
      Display display,
      RemoteViews views,
      Consumer<SignalMessage> toNode,
      Consumer<String> endSession) {
    this.id = open.getSessionId();
    this.username = open.getUsername() == null ? "someone" : open.getUsername();
    this.control = open.getMode() != SignalMessage.ModeEnum.VIEW;
    ClipboardPolicy offered =
        open.getClipboard() == null
            ? ClipboardPolicy.BOTH
            : ClipboardPolicy.parse(open.getClipboard().getValue());
    this.policy = offered.narrow(agentPolicy);
    this.idleSeconds = open.getIdleSeconds() == null ? 0 : Math.max(0, open.getIdleSeconds());
    this.consentSeconds =
        open.getConsentSeconds() == null ? 30 : Math.max(0, open.getConsentSeconds());
    this.display = display;
    this.views = views;
    this.toNode = toNode;
    this.endSession = endSession;
  }

  UUID id() {
    return id;
  }

  String username() {
    return username;
  }

  String mode() {
    return control ? "control" : "view";
  }

  synchronized State state() {
    return state;
  }

  // ---- control ----

  void serveControl(Channel channel) {
    synchronized (this) {
      controlChannel = channel;
    }
    running.add(
        JsonMessages.of(channel)
            .subscribe(
                this::onControl, error -> {}, () -> log.debug("Session {}: control closed", id)));
    views.arrived(this);
  }

  private void onControl(JsonNode message) {
    if ("consent".equals(message.path("type").asString(""))) {
      RemoteView newcomer;
      synchronized (this) {
        newcomer = consentRequests.remove(message.path("requestId").asString(""));
      }
      if (newcomer != null) {
        views.decide(newcomer, message.path("granted").asBoolean(false), "the owner");
      }
    }
  }

  /** Tells this (waiting) viewer that it waits, and for how long at most. */
  void waitForConsent(RemoteView owner) {
    synchronized (this) {
      state = State.WAITING;
    }
    send(controlChannel(), Map.of("type", "waiting-consent", "timeoutSeconds", consentSeconds));
    log.info(
        "Session {}: {} waits for the consent of session {} ({} s)",
        id,
        username,
        owner.id,
        consentSeconds);
  }

  int consentSeconds() {
    return consentSeconds;
  }

  /** Asks this (owner's) viewer whether {@code newcomer} may join. */
  void askConsent(String requestId, RemoteView newcomer) {
    synchronized (this) {
      consentRequests.put(requestId, newcomer);
    }
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("type", "consent-request");
    request.put("requestId", requestId);
    request.put("username", newcomer.username);
    request.put("mode", newcomer.mode());
    send(controlChannel(), request);
  }

  synchronized void forgetConsentRequest(String requestId) {
    consentRequests.remove(requestId);
  }

  /** The owner agreed (or did not answer in time): this view starts. */
  void granted(boolean afterConsent) {
    synchronized (this) {
      if (state == State.ENDED) {
        return;
      }
      state = State.GRANTED;
    }
    if (afterConsent) {
      send(controlChannel(), Map.of("type", "consent-granted"));
      event(EventEnum.CONSENT_GRANTED, null);
    }
    hello();
    lastInput = System.nanoTime();
    if (idleSeconds > 0) {
      running.add(Flux.interval(IDLE_TICK).subscribe(tick -> checkIdle()));
    }
    if (display != null) {
      running.add(
          display
              .screen()
              .sizes()
              .filter(size -> !size.equals(sentSize()))
              .subscribe(this::screen));
      if (policy.allowsRead()) {
        running.add(display.clipboard().changes().subscribe(this::clipboardChanged));
      }
    }
  }

  /** The owner refused: this viewer is told, and its session ends. */
  void denied() {
    event(EventEnum.CONSENT_DENIED, null);
    bye("consent denied");
  }

  private void hello() {
    Mono<Size> size = display == null ? Mono.just(new Size(0, 0)) : display.size();
    size.onErrorReturn(new Size(0, 0))
        .subscribe(
            current -> {
              synchronized (this) {
                sentSize = current;
              }
              Map<String, Object> hello = new LinkedHashMap<>();
              hello.put("type", "hello");
              hello.put("mode", mode());
              hello.put("width", current.width());
              hello.put("height", current.height());
              hello.put("clipboard", policy.wireName());
              hello.put("idleSeconds", idleSeconds);
              hello.put("resizable", display != null && display.resizable());
              send(controlChannel(), hello);
            });
  }

  private synchronized Size sentSize() {
    return sentSize;
  }

  private void screen(Size size) {
    synchronized (this) {
      sentSize = size;
    }
    send(
        controlChannel(), Map.of("type", "screen", "width", size.width(), "height", size.height()));
  }

  private void checkIdle() {
    long idleNanos = System.nanoTime() - lastInput;
    long leftMillis = idleSeconds * 1000L - idleNanos / 1_000_000;
    if (leftMillis <= 0) {
      event(EventEnum.IDLE_DISCONNECT, null);
      log.info("Session {}: no input for {} s; ending it", id, idleSeconds);
      bye("idle");
    } else if (!idleWarned && leftMillis <= IDLE_WARNING.toMillis()) {
      idleWarned = true;
      send(
          controlChannel(),
          Map.of("type", "idle-warning", "secondsLeft", (int) Math.ceil(leftMillis / 1000.0)));
    }
  }

  /** Says {@code bye} to the viewer, then ends the session (at most {@link #BYE_GRACE} later). */
  void bye(String reason) {
    synchronized (this) {
      if (state == State.ENDED) {
        return;
      }
      state = State.ENDED;
    }
    Channel channel = controlChannel();
    Mono<Void> sent =
        channel == null
            ? Mono.empty()
            : channel.send(json(Map.of("type", "bye", "reason", reason)));
    sent.timeout(BYE_GRACE)
        .onErrorResume(error -> Mono.empty())
        .subscribe(null, null, () -> endSession.accept(reason));
  }

  // ---- input ----

  void serveInput(Channel channel) {
    running.add(JsonMessages.of(channel).subscribe(this::onInput, error -> {}));
  }

  private void onInput(JsonNode message) {
    // Any input message shows the viewer is there, even one that is not obeyed.
    lastInput = System.nanoTime();
    idleWarned = false;
    if (!control || state() != State.GRANTED || display == null) {
      return;
    }
    String type = message.path("type").asString("");
    InputInjector input = injector();
    switch (type) {
      case "move" -> input.move(message.path("x").asInt(), message.path("y").asInt());
      case "button" -> {
        int button = message.path("button").asInt();
        if (button < 1 || button > 3) {
          log.debug("Session {}: button {} ignored (expected 1, 2 or 3)", id, button);
          return;
        }
        if (message.has("x") && message.has("y")) {
          input.move(message.path("x").asInt(), message.path("y").asInt());
        }
        input.button(button, message.path("down").asBoolean());
      }
      case "wheel" -> input.wheel(message.path("dx").asInt(), message.path("dy").asInt());
      case "key" ->
          input.key(
              message.path("code").asString(null),
              message.path("key").asString(null),
              message.path("down").asBoolean());
      case "release-all" -> input.releaseAll();
      case "resize" -> resize(message.path("width").asInt(), message.path("height").asInt());
      default -> log.debug("Session {}: input {} ignored", id, type);
    }
  }

  private synchronized InputInjector injector() {
    if (injector == null) {
      injector = display.newInjector();
    }
    return injector;
  }

  private void resize(int width, int height) {
    display
        .resize(width, height)
        .subscribe(
            size -> screen(size),
            error -> log.warn("Session {}: resize failed: {}", id, error.toString()));
  }

  // ---- clipboard ----

  void serveClipboard(Channel channel) {
    synchronized (this) {
      clipboardChannel = channel;
    }
    running.add(JsonMessages.of(channel).subscribe(this::onClipboard, error -> {}));
  }

  private void onClipboard(JsonNode message) {
    if (!"text".equals(message.path("type").asString(""))) {
      return;
    }
    String text = message.path("text").asString("");
    long bytes = text.getBytes(StandardCharsets.UTF_8).length;
    String refusal = null;
    if (state() != State.GRANTED) {
      refusal = "not granted yet";
    } else if (!control) {
      refusal = "view-only session";
    } else if (!policy.allowsWrite()) {
      refusal = "clipboard policy " + policy.wireName() + " does not allow writing";
    } else if (bytes > Clipboard.MAX_BYTES) {
      refusal = "text of " + bytes + " bytes (at most " + Clipboard.MAX_BYTES + ")";
    } else if (display == null) {
      refusal = "no display";
    }
    if (refusal != null) {
      refuse(refusal, bytes);
      return;
    }
    display
        .clipboard()
        .write(text, this)
        .subscribe(
            null,
            error -> {
              log.warn("Session {}: clipboard not written: {}", id, error.getMessage());
              refuse("the clipboard could not be written", bytes);
            },
            () -> event(EventEnum.CLIPBOARD_WRITE, bytes));
  }

  private void refuse(String reason, long bytes) {
    log.info("Session {}: clipboard write of {} bytes refused: {}", id, bytes, reason);
    event(EventEnum.CLIPBOARD_REFUSED, bytes);
    send(clipboardChannel(), Map.of("type", "refused", "reason", reason));
  }

  private void clipboardChanged(Clipboard.Change change) {
    if (change.origin() == this || state() != State.GRANTED) {
      return;
    }
    Channel channel = clipboardChannel();
    if (channel == null) {
      return;
    }
    if (change.text() == null) {
      log.info("Session {}: clipboard text over {} bytes not sent", id, Clipboard.MAX_BYTES);
      event(EventEnum.CLIPBOARD_REFUSED, (long) Clipboard.MAX_BYTES + 1);
      return;
    }
    long bytes = change.text().getBytes(StandardCharsets.UTF_8).length;
    channel
        .send(json(Map.of("type", "text", "text", change.text())))
        .subscribe(null, error -> {}, () -> event(EventEnum.CLIPBOARD_READ, bytes));
  }

  // ---- plumbing ----

  private synchronized Channel controlChannel() {
    return controlChannel;
  }

  private synchronized Channel clipboardChannel() {
    return clipboardChannel;
  }

  private void event(EventEnum event, Long bytes) {
    toNode.accept(
        new SignalMessage()
            .type(MessageType.SESSION_EVENT)
            .sessionId(id)
            .event(event)
            .bytes(bytes));
  }

  private void send(Channel channel, Map<String, ?> message) {
    if (channel == null) {
      return;
    }
    channel
        .send(json(message))
        .subscribe(null, error -> log.debug("Session {}: not sent: {}", id, error.toString()));
  }

  private static ByteBuffer json(Map<String, ?> message) {
    return ByteBuffer.wrap(JSON.writeValueAsBytes(message));
  }

  /** Frees what the view holds (timers, the injector, after releasing what it pressed). */
  void close() {
    synchronized (this) {
      state = State.ENDED;
    }
    running.dispose();
    InputInjector current;
    synchronized (this) {
      current = injector;
      injector = null;
    }
    if (current != null) {
      current.close();
    }
    views.left(this);
  }

  /**
   * JSON text messages of a channel, one object per message; a message the channel split into
   * {@link Channel#MAX_MESSAGE}-byte pieces is joined again (a piece of exactly that size means
   * more follows). Malformed messages are skipped.
   */
  static final class JsonMessages {
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    static Flux<JsonNode> of(Channel channel) {
      JsonMessages framing = new JsonMessages();
      return channel.messages().concatMap(framing::accept);
    }

    private Mono<JsonNode> accept(ByteBuffer piece) {
      byte[] bytes = new byte[piece.remaining()];
      piece.get(bytes);
      pending.writeBytes(bytes);
      if (bytes.length == Channel.MAX_MESSAGE && pending.size() <= 2 * Clipboard.MAX_BYTES) {
        return Mono.empty();
      }
      byte[] whole = pending.toByteArray();
      pending.reset();
      try {
        JsonNode node = JSON.readTree(whole);
        return node != null && node.isObject() ? Mono.just(node) : Mono.empty();
      } catch (RuntimeException e) {
        log.debug("Malformed message of {} bytes skipped: {}", whole.length, e.getMessage());
        return Mono.empty();
      }
    }
  }
}
