/**
 * What both ends of a remote session share: WebRTC peer connections, the DTLS identity, channels
 * over a data channel or the relay, and the signal WebSocket client.
 */
package dev.airlock.peer;
