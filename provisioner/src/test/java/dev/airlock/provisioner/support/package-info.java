/** Test support: the test Docker Engine, certificates from deploy/pki.sh, and an mTLS client. */
package dev.airlock.provisioner.support;
