/** Reverse tunnels end to end: an edge site in its own namespace, reached through the cluster. */
package dev.airlock.contract.tunnel;
