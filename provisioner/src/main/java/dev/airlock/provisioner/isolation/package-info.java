/** The isolation profiles: what each one drops, forces and limits on a container. */
package dev.airlock.provisioner.isolation;
