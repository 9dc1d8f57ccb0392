package dev.airlock.contract.harness;

/**
 * The network namespaces {@code deploy/test-deps.sh} creates for the WebRTC tests (webrtc ignores
 * loopback, so peers need real interfaces): agents in {@link #AGENT_1} and {@link #AGENT_2}, the
 * client in {@link #CLIENT}, all on a bridge with this namespace at {@link #HUB}; {@link #ISOLATED}
 * on a second bridge with this namespace at {@link #ISOLATED_HUB}. No namespace has a route to
 * another bridge, so {@link #CLIENT} and {@link #ISOLATED} cannot reach each other.
 */
public final class TestNetwork {

  public static final String AGENT_1 = "alk-a1";
  public static final String AGENT_2 = "alk-a2";
  public static final String CLIENT = "alk-cl";
  public static final String ISOLATED = "alk-iso";

  /** This namespace's address on the first bridge, where platform and signal are reached. */
  public static final String HUB = "10.231.0.1";

  /** This namespace's address on the second bridge, the only one {@link #ISOLATED} reaches. */
  public static final String ISOLATED_HUB = "10.232.0.1";

  private TestNetwork() {}

  /**
   * Fails with what to do when the namespaces are missing (the tests were not started with {@code
   * ./airlock test}).
   */
  public static void require() {
    if (!"1".equals(System.getenv("AIRLOCK_TEST_NETNS"))) {
      throw new IllegalStateException(
          "The WebRTC tests need the network namespaces and coturn that deploy/test-deps.sh"
              + " starts (as root): run them with ./airlock test, or eval \"$(deploy/test-deps.sh"
              + " up)\" first");
    }
  }

  /** The STUN server coturn answers on, e.g. {@code stun:10.231.0.1:3478}. */
  public static String stunUrl() {
    String url = System.getenv("AIRLOCK_TEST_STUN_URL");
    return url == null ? "stun:" + HUB + ":3478" : url;
  }
}
