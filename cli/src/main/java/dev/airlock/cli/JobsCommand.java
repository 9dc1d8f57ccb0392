package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.Job;
import dev.airlock.sdk.model.JobOutcome;
import dev.airlock.sdk.model.JobRun;
import dev.airlock.sdk.model.JobRunPage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock jobs …}: the platform's scheduled jobs, their runs, and running one now. */
@Command(
    name = "jobs",
    header = "List scheduled jobs, read their runs, run one now (administrators).",
    description = {
      "The platform's periodic work (audit archive, directory sync, mail, container reaper, warm"
          + " pool) runs as jobs on cron schedules, one platform replica at a time; every run is"
          + " recorded with its outcome and counts. See docs/jobs.md.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.Runs.class, JobsCommand.Run.class})
final class JobsCommand implements Callable<Integer> {

  private static final Duration POLL = Duration.ofMillis(500);

  @Spec CommandSpec spec;

  private final CliContext context;

  JobsCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(context.err());
    return ExitStatus.USAGE;
  }

  @Command(
      name = "ls",
      aliases = "list",
      sortOptions = false,
      header = "List the jobs with their schedule, next run and last run.")
  static final class ListJobs implements Callable<Integer> {

    @Mixin OutputOption output;

    private final CliContext context;

    ListJobs(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      List<Job> jobs =
          PlatformAccess.of(context)
              .client()
              .jobs()
              .listJobs()
              .block(PlatformAccess.CALL_TIMEOUT)
              .getItems();
      if (output.json()) {
        Output.json(context.out(), jobs);
        return ExitStatus.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Job job : jobs) {
        JobRun last = job.getLastRun();
        rows.add(
            Arrays.asList(
                job.getName(),
                job.getSchedule(),
                Boolean.TRUE.equals(job.getEnabled()) ? "yes" : "no",
                Output.instant(job.getNextRunAt()),
                last == null ? null : Output.instant(last.getStartedAt()),
                last == null ? null : String.valueOf(last.getOutcome())));
      }
      Output.table(
          context.out(),
          List.of("NAME", "SCHEDULE", "ENABLED", "NEXT RUN", "LAST RUN", "OUTCOME"),
          rows);
      return ExitStatus.OK;
    }
  }

  @Command(name = "runs", sortOptions = false, header = "List a job's runs, newest first.")
  static final class Runs implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "The job's name, as 'jobs ls' shows it.")
    String job;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "How many runs (1..500). Default: ${DEFAULT-VALUE}.",
        defaultValue = "20")
    int limit;

    @Mixin OutputOption output;

    private final CliContext context;

    Runs(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      JobRunPage page =
          PlatformAccess.of(context)
              .client()
              .jobs()
              .listJobRuns(job, limit, null)
              .block(PlatformAccess.CALL_TIMEOUT);
      if (output.json()) {
        Output.json(context.out(), page.getItems());
        return ExitStatus.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (JobRun run : page.getItems()) {
        rows.add(
            Arrays.asList(
                Output.instant(run.getStartedAt()),
                duration(run),
                String.valueOf(run.getTrigger())
                    + (run.getTriggeredBy() == null ? "" : " by " + run.getTriggeredBy()),
                String.valueOf(run.getOutcome()),
                counts(run.getCounts()),
                run.getMessage()));
      }
      Output.table(
          context.out(),
          List.of("STARTED", "TOOK", "TRIGGER", "OUTCOME", "COUNTS", "MESSAGE"),
          rows);
      return ExitStatus.OK;
    }
  }

  @Command(
      name = "run",
      sortOptions = false,
      header = "Run a job now.",
      description = {
        "Starts a run at once (whether or not the job's schedule is enabled) and prints it. With"
            + " --wait, shows its counts as they grow and waits for its end: exit status 9 when it"
            + " failed or was interrupted, 7 when it did not end in time. Exit status 5 when a run"
            + " of the job is already in progress.",
        "",
        "Example:",
        "  airlock jobs run directory-sync --wait",
      })
  static final class Run implements Callable<Integer> {

    @Parameters(paramLabel = "JOB", description = "The job's name, as 'jobs ls' shows it.")
    String job;

    @Option(names = "--wait", description = "Wait for the run to end.")
    boolean waitEnd;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description = "With --wait: how long to wait. Default: 30m.")
    Duration timeout;

    @Mixin OutputOption output;

    private final CliContext context;

    Run(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
      Duration waitFor = DurationConverter.waitTimeout(waitEnd, timeout, Duration.ofMinutes(30));
      AirlockClient airlock = PlatformAccess.of(context).client();
      JobRun run = airlock.jobs().runJob(job).block(PlatformAccess.CALL_TIMEOUT);
      if (waitEnd) {
        run = await(airlock, run, waitFor);
      }
      if (output.json()) {
        Output.json(context.out(), run);
      } else {
        context
            .out()
            .println(
                job
                    + " run "
                    + run.getId()
                    + ": "
                    + run.getOutcome()
                    + (run.getCounts().isEmpty() ? "" : " (" + counts(run.getCounts()) + ")")
                    + (run.getMessage() == null ? "" : ": " + run.getMessage()));
      }
      if (run.getOutcome() == JobOutcome.FAILED || run.getOutcome() == JobOutcome.INTERRUPTED) {
        return ExitStatus.JOB_FAILED;
      }
      return ExitStatus.OK;
    }

    /** Polls the job's newest runs until this one ends; prints its counts when they change. */
    private JobRun await(AirlockClient airlock, JobRun started, Duration limit)
        throws InterruptedException {
      long deadline = System.nanoTime() + limit.toNanos();
      JobRun run = started;
      String shown = "";
      while (run.getOutcome() == JobOutcome.RUNNING) {
        if (System.nanoTime() > deadline) {
          throw new CliException(
              ExitStatus.TIMED_OUT,
              job + " run " + run.getId() + " did not end within " + limit.toSeconds() + " s");
        }
        Thread.sleep(POLL.toMillis());
        run = find(airlock, run);
        String now = counts(run.getCounts());
        if (run.getOutcome() == JobOutcome.RUNNING && now != null && !now.equals(shown)) {
          context.err().println(job + ": " + now);
          shown = now;
        }
      }
      return run;
    }

    private JobRun find(AirlockClient airlock, JobRun run) {
      JobRunPage newest =
          airlock.jobs().listJobRuns(job, 20, null).block(PlatformAccess.CALL_TIMEOUT);
      return newest.getItems().stream()
          .filter(r -> Objects.equals(r.getId(), run.getId()))
          .findFirst()
          .orElseThrow(
              () ->
                  new CliException(
                      ExitStatus.UNEXPECTED,
                      job + " run " + run.getId() + " is no longer in the job's history"));
    }
  }

  private static String duration(JobRun run) {
    if (run.getEndedAt() == null) {
      return null;
    }
    return WaitProgress.elapsed(Duration.between(run.getStartedAt(), run.getEndedAt()).toMillis());
  }

  private static String counts(Map<String, Long> counts) {
    if (counts == null || counts.isEmpty()) {
      return null;
    }
    List<String> pairs = new ArrayList<>();
    counts.forEach((name, n) -> pairs.add(name + "=" + n));
    return String.join(" ", pairs);
  }
}
