/** Live sessions: the pairing of a client with an agent, their relay state, byte counts and end. */
package dev.airlock.signal.session;
