/**
 * The agent's graphical side on an X display: the screen as frames for the WebRTC video track,
 * input injected through XTest, and the CLIPBOARD selection read and written for viewers.
 */
package dev.airlock.agent.display;
