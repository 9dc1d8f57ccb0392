/** RFC 7807 problem documents: the error types of the contract and the handler that writes them. */
package dev.airlock.provisioner.problem;
