/** Clients' sockets: connect-token check, redemption, pairing with the agent, and their relay. */
package dev.airlock.signal.client;
