/** Liveness and readiness: whether the platform and its database answer. */
package dev.airlock.platform.health;
