/** Containers by key: the API handler, request validation and the plain and Swarm backends. */
package dev.airlock.provisioner.container;
