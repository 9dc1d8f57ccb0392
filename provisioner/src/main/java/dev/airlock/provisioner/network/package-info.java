/** The strict profile's network: an internal bridge whose containers reach only this host. */
package dev.airlock.provisioner.network;
