/**
 * The signal WebSocket protocol (version 1), shared by signal, the agent and the Java SDK: message
 * types generated from {@code openapi/signal.yaml}, their JSON codec, the relay frame and the close
 * codes.
 */
package dev.airlock.protocol;
