/** The admin API the platform calls: cut a revoked agent or a session, and the node's health. */
package dev.airlock.signal.admin;
