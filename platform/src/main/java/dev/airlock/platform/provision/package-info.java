/**
 * Provisioners (PROAPI): the Docker hosts containers are placed on, and the mutual-TLS client that
 * calls them behind timeouts, retries, a circuit breaker and a bulkhead per provisioner.
 */
package dev.airlock.platform.provision;
