/** WebSocket plumbing shared by agent and client sockets: routes, outbound queue, limits, close. */
package dev.airlock.signal.socket;
