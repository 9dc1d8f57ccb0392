/** The link to the platform: this node's registration heartbeat and the calls it makes there. */
package dev.airlock.signal.platform;
