/** The Airlock signal node: agents' and clients' WebSockets, signalling, relay and admin API. */
package dev.airlock.signal;
