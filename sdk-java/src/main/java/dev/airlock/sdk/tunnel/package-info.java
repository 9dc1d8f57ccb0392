/**
 * Byte streams to what edge nodes expose (their SSH server, web apps, TCP ports) through their
 * reverse tunnels: {@code AirlockClient.tunnel} and the {@link dev.airlock.sdk.tunnel.TunnelStream}
 * it returns.
 */
package dev.airlock.sdk.tunnel;
