/** The append-only, hash-chained audit log: writing events, querying them, verifying the chain. */
package dev.airlock.platform.audit;
