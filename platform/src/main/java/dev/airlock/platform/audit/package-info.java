/**
 * The append-only, hash-chained audit log: writing events, querying and exporting them, verifying
 * the chain, and moving old events into the archive.
 */
package dev.airlock.platform.audit;
