package dev.airlock.protocol;

/**
 * The HTTP/2 side of a reverse tunnel, as {@code openapi/signal.yaml} ("Tunnels") describes it:
 * what an edge-node agent and the signal node must agree on beyond the signalling messages.
 */
public final class TunnelWire {

  /** Opens one stream: request body = the target's bytes, response body = the client's. */
  public static final String STREAMS_PATH = "/tunnel/v1/streams";

  /**
   * The agent's signalling on its tunnel connection: a stream whose bodies carry the messages of
   * the agent WebSocket, framed as {@code openapi/signal.yaml} ("Tunnels") says.
   */
  public static final String CONTROL_PATH = "/tunnel/v1/control";

  /** The content type of both bodies of a {@link #CONTROL_PATH} stream. */
  public static final String CONTROL_MEDIA_TYPE = "application/vnd.airlock.signal.v1";

  /** Answers 204; opens the connection before the first stream, and checks it later. */
  public static final String PING_PATH = "/tunnel/v1/ping";

  /** The header a stream presents the ticket of its {@code tunnel.open} in. */
  public static final String TICKET_HEADER = "airlock-ticket";

  /** Each stream's flow-control window: the most one stalled stream holds in each direction. */
  public static final int STREAM_WINDOW = 256 * 1024;

  /**
   * The connection's receive window, far above a stream's, so that streams that stop reading (up to
   * this divided by {@link #STREAM_WINDOW}) do not stall the others. HTTP/2 starts every connection
   * at 64 KiB; each side widens its own once.
   */
  public static final int CONNECTION_WINDOW = 32 * 1024 * 1024;

  /**
   * The largest DATA frame each side accepts: four times HTTP/2's default, so bulk transfers cost a
   * quarter of the frames.
   */
  public static final int MAX_FRAME = 64 * 1024;

  /**
   * Stream resets each side accepts per {@link #RESET_WINDOW_SECONDS} before it drops the
   * connection as a reset flood. Netty's default (200 in 30 s) is meant for public servers; a
   * tunnel ends a stream with a reset whenever a client leaves first, so a node whose users close
   * hundreds of connections at once (a build farm, a browser) must not lose its tunnel for it.
   */
  public static final int MAX_RESETS_PER_SECOND = 20_000;

  /** The window {@link #MAX_RESETS_PER_SECOND} is counted over. */
  public static final int RESET_WINDOW_SECONDS = 1;

  /** HTTP/2's initial connection window. */
  public static final int INITIAL_CONNECTION_WINDOW = 65_535;

  private TunnelWire() {}
}
