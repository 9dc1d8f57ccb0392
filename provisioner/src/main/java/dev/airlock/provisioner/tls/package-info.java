/** Mutual TLS: the server's certificate and the CA its clients' certificates must chain to. */
package dev.airlock.provisioner.tls;
