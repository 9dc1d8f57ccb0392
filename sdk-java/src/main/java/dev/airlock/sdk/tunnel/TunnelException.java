package dev.airlock.sdk.tunnel;

import dev.airlock.protocol.CloseCodes;
import dev.airlock.sdk.connect.AirlockConnectException;

/**
 * A tunnel could not be opened, or it ended other than normally: the signal node closed the
 * WebSocket with {@link #closeCode()} and {@link #reason()}, or (code 0) the node could not be
 * reached or did not answer in time. The message names the node and target, says what happened and
 * what to do. Refusals by the platform itself (no permission, an undeclared target) are {@link
 * dev.airlock.sdk.AirlockProblemException}s instead.
 */
public class TunnelException extends AirlockConnectException {

  private static final long serialVersionUID = 1L;

  private final String reason;

  public TunnelException(int closeCode, String reason, String message, Throwable cause) {
    super(closeCode, message, cause);
    this.reason = reason == null ? "" : reason;
  }

  /** The node's reason with the close code (e.g. {@code connection refused}), or empty. */
  public String reason() {
    return reason;
  }

  /** Whether the node could not reach the target, or lost it (4502). */
  public boolean targetUnreachable() {
    return closeCode() == CloseCodes.TARGET_UNREACHABLE;
  }

  /** Whether the platform terminated the session (an administrator, or a policy) (4410). */
  public boolean terminated() {
    return closeCode() == CloseCodes.SESSION_TERMINATED;
  }

  /**
   * The exception for a stream to {@code target} on {@code node} that ended with {@code code} and
   * {@code reason}.
   *
   * @param open whether the stream was open ({@code welcome} received) when it ended
   */
  static TunnelException ended(String node, String target, boolean open, int code, String reason) {
    String where = target + " on node " + node;
    String hint = "";
    String what;
    switch (code) {
      case CloseCodes.TARGET_UNREACHABLE ->
          what =
              open
                  ? "node " + node + " lost the connection to " + target
                  : "node " + node + " cannot reach " + target;
      case CloseCodes.SESSION_TERMINATED ->
          what = "the platform terminated the session to " + where;
      case CloseCodes.AGENT_NOT_HERE -> {
        what = "node " + node + " is not connected to the signal node the platform named";
        hint = "; it may have just reconnected: retry";
      }
      case CloseCodes.UNAUTHENTICATED -> {
        what = "the signal node refused the connect token for " + where;
        hint =
            "; retry (if it persists, the signal node and the platform disagree on keys or time)";
      }
      case CloseCodes.TOKEN_REPLAYED -> {
        what = "the connect token for " + where + " was already used";
        hint = "; retry for a new one";
      }
      case CloseCodes.TOO_MANY_SESSIONS -> what = "node " + node + " has too many tunnel streams";
      case CloseCodes.GOING_AWAY ->
          what = "the tunnel to " + where + " went away (the signal node or the node's tunnel)";
      case CloseCodes.PROTOCOL_ERROR, CloseCodes.TOO_BIG ->
          what = "the signal node refused what this client sent on the tunnel to " + where;
      case CloseCodes.RATE_LIMITED -> what = "the signal node rate-limited the tunnel to " + where;
      case TunnelStream.Ending.ABNORMAL ->
          what = "the connection to the signal node was lost (tunnel to " + where + ")";
      case CloseCodes.NORMAL ->
          what = "the signal node ended the session to " + where + " before the stream was open";
      default -> what = "the signal node closed the tunnel to " + where;
    }
    String detail = reason == null || reason.isBlank() ? "" : ": " + reason;
    return new TunnelException(code, reason, what + detail + " (close " + code + ")" + hint, null);
  }
}
