/**
 * LDAP directory sources: users and groups synchronised into Airlock by the {@code directory-sync}
 * job, and directory users' logins checked by binding to their directory.
 */
package dev.airlock.platform.directory;
