/** Remote sessions: RBAC on the target agent, connect tokens, ICE servers, termination. */
package dev.airlock.platform.session;
