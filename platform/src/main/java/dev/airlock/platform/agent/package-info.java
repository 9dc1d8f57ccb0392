/** Agents: join tokens, enrolment, identity proofs, presence and revocation. */
package dev.airlock.platform.agent;
