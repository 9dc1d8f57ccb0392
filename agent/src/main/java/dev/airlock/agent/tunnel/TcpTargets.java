package dev.airlock.agent.tunnel;

import dev.airlock.protocol.message.SignalMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.Connection;
import reactor.netty.tcp.TcpClient;

/** An edge node's streams: each one a TCP connection to a target the node declares. */
public final class TcpTargets implements StreamTargets {

  /** How long a target may take to accept a connection. */
  public static final Duration TARGET_CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private final TunnelTargets targets;

  public TcpTargets(TunnelTargets targets) {
    this.targets = targets;
  }

  @Override
  public Mono<FarEnd> dial(SignalMessage open) {
    TunnelTargets.Target target = targets.get(open.getTarget());
    if (target == null) {
      return Mono.error(new Unreachable(open.getTarget() + " is not declared on this node"));
    }
    // Unpooled: each stream is its own connection to the target, and the shared pool would cap
    // them at 500 per target.
    return TcpClient.newConnection()
        .host(target.host())
        .port(target.port())
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) TARGET_CONNECT_TIMEOUT.toMillis())
        .connect()
        .onErrorMap(
            error ->
                new Unreachable(
                    "cannot reach "
                        + target.name()
                        + " ("
                        + target.address()
                        + "): "
                        + (error.getMessage() == null ? error.toString() : error.getMessage())))
        .map(Tcp::new);
  }

  @Override
  public String toString() {
    return targets.toString();
  }

  private record Tcp(Connection connection) implements FarEnd {

    @Override
    public Flux<ByteBuf> receive() {
      return connection.inbound().receive().retain();
    }

    @Override
    public Mono<Void> send(Flux<ByteBuf> bytes) {
      return connection.outbound().send(bytes.map(ByteBuf::retain)).then();
    }

    @Override
    public void dispose() {
      connection.dispose();
    }
  }
}
