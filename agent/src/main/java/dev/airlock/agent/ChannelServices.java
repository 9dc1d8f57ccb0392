package dev.airlock.agent;

import dev.airlock.agent.display.Display;
import dev.airlock.peer.Channel;
import dev.airlock.protocol.message.SignalMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the agent offers on a session's channels, by label: {@code echo} sends back every message
 * unchanged; {@code info} sends one JSON text when opened: {@code
 * {"agentId":…,"hostname":…,"path":"p2p"|"relay"}}; {@code control}, {@code input} and {@code
 * clipboard} are the session's {@link RemoteView} (docs/remote-view.md), and are closed when the
 * agent has no display ({@code input}, {@code clipboard}). Other labels are closed.
 */
final class ChannelServices {

  private static final Logger log = LoggerFactory.getLogger(ChannelServices.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final AgentState state;
  private final String hostname;
  private final Display display;
  private final ClipboardPolicy clipboard;
  private final RemoteViews views = new RemoteViews();

  /**
   * @param display the display shown to viewers, or null when the agent has none
   * @param clipboard the most the agent allows, whatever a session.open says
   */
  ChannelServices(AgentState state, String hostname, Display display, ClipboardPolicy clipboard) {
    this.state = state;
    this.hostname = hostname;
    this.display = display;
    this.clipboard = clipboard;
  }

  /** The display, or null. */
  Display display() {
    return display;
  }

  /**
   * The remote view of a session being opened; {@code toNode} carries its session events, {@code
   * endSession} ends the session from the agent's side (idle, consent refused) with a reason.
   */
  RemoteView open(SignalMessage open, Consumer<SignalMessage> toNode, Consumer<String> endSession) {
    return new RemoteView(open, clipboard, display, views, toNode, endSession);
  }

  void serve(RemoteView view, Channel channel, String path) {
    UUID sessionId = view.id();
    switch (channel.label()) {
      case "control" -> view.serveControl(channel);
      case "input", "clipboard" -> {
        if (display == null) {
          log.info(
              "Session {}: channel {} closed: this agent has no display (set {} or DISPLAY)",
              sessionId,
              channel.label(),
              AgentConfig.environmentName("display"));
          channel.close().subscribe();
        } else if (channel.label().equals("input")) {
          view.serveInput(channel);
        } else {
          view.serveClipboard(channel);
        }
      }
      case "echo" ->
          channel
              .messages()
              .concatMap(channel::send)
              .subscribe(
                  done -> {},
                  error -> log.debug("Session {}: echo ended: {}", sessionId, error.toString()));
      case "info" -> {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("agentId", state.agentId().map(UUID::toString).orElse(null));
        info.put("hostname", hostname);
        info.put("path", path);
        byte[] text = JSON.writeValueAsString(info).getBytes(StandardCharsets.UTF_8);
        channel
            .send(ByteBuffer.wrap(text))
            .subscribe(
                done -> {},
                error -> log.debug("Session {}: info not sent: {}", sessionId, error.toString()));
        channel.messages().subscribe(ignored -> {}, error -> {});
      }
      default -> {
        log.info("Session {}: no service on channel {}; closing it", sessionId, channel.label());
        channel.close().subscribe();
      }
    }
  }
}
