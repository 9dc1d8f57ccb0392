/** The all-in-one start: registers the provisioner and browser image that run on this host. */
package dev.airlock.platform.local;
