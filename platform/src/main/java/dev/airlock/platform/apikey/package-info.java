/** API keys: long-lived, expiring, role-bound credentials for automation, hashed at rest. */
package dev.airlock.platform.apikey;
