/**
 * The contract suite's harness: the platform's boot jar run as a separate process on a fresh
 * database, the validating proxy in front of it, and the JUnit extension that shares one of each
 * across the whole run.
 */
package dev.airlock.contract.harness;
