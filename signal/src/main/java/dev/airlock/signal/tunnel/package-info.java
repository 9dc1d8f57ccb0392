/**
 * The reverse-tunnel endpoint: edge-node agents' HTTP/2 connections and the streams bridged to
 * clients.
 */
package dev.airlock.signal.tunnel;
