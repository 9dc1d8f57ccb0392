package dev.airlock.protocol;

/** The WebSocket close codes of the signal protocol, as listed in {@code openapi/signal.yaml}. */
public final class CloseCodes {

  public static final int NORMAL = 1000;
  public static final int GOING_AWAY = 1001;
  public static final int TOO_BIG = 1009;
  public static final int PROTOCOL_ERROR = 4000;
  public static final int HELLO_TIMEOUT = 4001;
  public static final int RATE_LIMITED = 4008;
  public static final int TOO_MANY_SESSIONS = 4029;
  public static final int UNAUTHENTICATED = 4401;
  public static final int AGENT_REVOKED = 4403;
  public static final int AGENT_NOT_HERE = 4404;
  public static final int TOKEN_REPLAYED = 4409;
  public static final int SESSION_TERMINATED = 4410;
  public static final int TARGET_UNREACHABLE = 4502;

  private CloseCodes() {}

  /** Whether a peer closed with {@code code} should not come back with the same credentials. */
  public static boolean isPermanent(int code) {
    return code == UNAUTHENTICATED || code == AGENT_REVOKED;
  }
}
