/**
 * Notifications by e-mail (optional): templates, an outbox in the database that the {@code mail}
 * job delivers through the SMTP server with retries, and what is notified (a login from a new
 * device, a container about to expire, a failed job).
 */
package dev.airlock.platform.mail;
