/** Per-socket rate limits on inbound messages, with the close reason a violation earns. */
package dev.airlock.signal.limit;
