/** Agents' sockets: admission through the platform, heartbeats, and the registry of live agents. */
package dev.airlock.signal.agent;
