/**
 * Ephemeral browser-isolation containers: the API, their lifecycle on a provisioner (requested →
 * provisioning → starting → ready → stopping → deleted, or failed), the reaper and warm pools.
 */
package dev.airlock.platform.container;
