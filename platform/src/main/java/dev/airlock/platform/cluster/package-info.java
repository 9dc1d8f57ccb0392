/** Trusted clusters: a leaf acting for a root cluster's users, under its own mapping of roles. */
package dev.airlock.platform.cluster;
