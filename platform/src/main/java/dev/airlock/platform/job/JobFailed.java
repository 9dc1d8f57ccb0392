package dev.airlock.platform.job;

/**
 * Published (as a Spring application event) when a run of a job fails, for notifications.
 *
 * @param job the job's name
 * @param runId the run's id
 * @param message why it failed
 */
public record JobFailed(String job, String runId, String message) {}
