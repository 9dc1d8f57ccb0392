/**
 * The contract suite's harness: the platform's boot jar run as a separate process on a fresh
 * database, the validating proxy in front of it, and the JUnit extension that shares one of each
 * across the whole run. Running processes and test databases is the testkit's ({@code
 * dev.airlock.testkit}).
 */
package dev.airlock.contract.harness;
