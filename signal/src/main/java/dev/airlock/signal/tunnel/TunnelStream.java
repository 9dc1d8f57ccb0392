package dev.airlock.signal.tunnel;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.signal.session.LiveSession;
import dev.airlock.signal.session.SessionRegistry;
import dev.airlock.signal.socket.OutboundQueue;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The bytes of one tunnel session, between the client's WebSocket and the agent's HTTP/2 stream.
 * The agent's request body goes to the client socket; the client's binary frames go out as the
 * response body. Each direction waits for its reader (the client socket's queue, the stream's
 * flow-control window), so a slow reader slows its writer and nothing else.
 */
public final class TunnelStream {

  private static final NettyDataBufferFactory BUFFERS =
      new NettyDataBufferFactory(ByteBufAllocator.DEFAULT);

  private final LiveSession session;
  private final SessionRegistry sessions;
  private final Runnable onAttached;
  private final OutboundQueue<ByteBuf> toAgent =
      new OutboundQueue<>(ByteBuf.class, ByteBuf::readableBytes, ReferenceCountUtil::release);
  private final AtomicBoolean attached = new AtomicBoolean();
  private volatile Disposable fromAgent;

  /**
   * @param onAttached called once the agent's stream is there (the client then gets {@code
   *     welcome})
   */
  public TunnelStream(LiveSession session, SessionRegistry sessions, Runnable onAttached) {
    this.session = session;
    this.sessions = sessions;
    this.onAttached = onAttached;
    session.whenEnded(this::close);
  }

  public LiveSession session() {
    return session;
  }

  /** Whether the agent's stream is there. */
  public boolean attached() {
    return attached.get();
  }

  /**
   * Connects the agent's stream: {@code agentBytes} (its request body, each buffer retained for
   * this stream) go to the client.
   *
   * @return the response body: the client's bytes for the agent
   */
  Flux<ByteBuf> attach(Flux<ByteBuf> agentBytes) {
    if (!attached.compareAndSet(false, true) || session.isEnded()) {
      agentBytes.subscribe(ReferenceCountUtil::release, error -> {});
      return Flux.empty();
    }
    // The client's welcome first: a target that answers and ends at once (a leaf's node list,
    // a service that writes a line and closes) would otherwise end the session before it.
    onAttached.run();
    fromAgent =
        agentBytes
            .concatMap(this::toClient, 1)
            .doOnDiscard(ByteBuf.class, ReferenceCountUtil::release)
            .subscribe(
                done -> {},
                error ->
                    sessions.end(
                        session,
                        "tunnel connection lost: " + error.getMessage(),
                        false,
                        CloseCodes.GOING_AWAY,
                        "the node's tunnel connection was lost"),
                () ->
                    sessions.end(
                        session,
                        "target closed the connection",
                        false,
                        CloseCodes.NORMAL,
                        "target closed the connection"));
    return toAgent.messages();
  }

  private Mono<Void> toClient(ByteBuf bytes) {
    session.countFromAgent(bytes.readableBytes());
    return session.client().forward(BUFFERS.wrap(bytes));
  }

  /**
   * Queues a binary frame of the client's for the agent, taking ownership; completes when it is
   * queued, waiting first while the agent's side is full.
   */
  public Mono<Void> fromClient(DataBuffer frame) {
    if (toAgent.isClosed()) {
      DataBufferUtils.release(frame);
      return Mono.empty();
    }
    session.countFromClient(frame.readableByteCount());
    return toAgent.forward(NettyDataBufferFactory.toByteBuf(frame));
  }

  /** Ends both directions: the agent's stream gets its end, the client gets nothing more. */
  void close() {
    toAgent.close();
    Disposable running = fromAgent;
    if (running != null) {
      running.dispose();
    }
  }
}
