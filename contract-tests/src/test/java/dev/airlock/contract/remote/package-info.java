/**
 * Remote access end to end: real agents and a real SDK client, each in its own network namespace,
 * real signal nodes, coturn for STUN, and the platform on a real database.
 */
package dev.airlock.contract.remote;
