/** Roles: named sets of allow and deny rules, and the built-in admin role. */
package dev.airlock.platform.role;
