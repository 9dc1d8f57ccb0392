/**
 * An edge node's side of reverse tunnels: its declared targets and its HTTP/2 connection to signal.
 */
package dev.airlock.agent.tunnel;
