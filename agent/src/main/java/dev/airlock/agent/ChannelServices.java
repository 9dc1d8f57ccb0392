package dev.airlock.agent;

import dev.airlock.peer.Channel;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the agent offers on a session's channels, by label: {@code echo} sends back every message
 * unchanged; {@code info} sends one JSON text when opened: {@code
 * {"agentId":…,"hostname":…,"path":"p2p"|"relay"}}. Other labels are closed.
 */
final class ChannelServices {

  private static final Logger log = LoggerFactory.getLogger(ChannelServices.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final AgentState state;
  private final String hostname;

  ChannelServices(AgentState state, String hostname) {
    this.state = state;
    this.hostname = hostname;
  }

  void serve(UUID sessionId, Channel channel, String path) {
    switch (channel.label()) {
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
