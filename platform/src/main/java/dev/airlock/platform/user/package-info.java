/** Local user accounts, and the first administrator created at first start. */
package dev.airlock.platform.user;
