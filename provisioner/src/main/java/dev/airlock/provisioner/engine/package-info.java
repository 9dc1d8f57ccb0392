/** The Docker Engine on the local socket: docker-java calls off the event loop, with timeouts. */
package dev.airlock.provisioner.engine;
