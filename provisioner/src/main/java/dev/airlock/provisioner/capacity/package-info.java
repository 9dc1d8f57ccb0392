/** What this provisioner can still run, in which mode, with which profiles, runtimes and images. */
package dev.airlock.provisioner.capacity;
