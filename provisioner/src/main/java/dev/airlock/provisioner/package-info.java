/** The Airlock provisioner: a mutual-TLS API that runs isolated containers on the local engine. */
package dev.airlock.provisioner;
