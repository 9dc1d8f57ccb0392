/** Scheduled jobs (APICRON): each runs on one platform replica at a time, under a database lock. */
package dev.airlock.platform.job;
