package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.AuditEvent;
import dev.airlock.sdk.model.AuditVerification;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code airlock audit …}: export the audit log as JSON lines, verify its hash chain. */
@Command(
    name = "audit",
    header = "Export the audit log (JSON lines, for a SIEM) or verify its hash chain.",
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {AuditCommand.Export.class, AuditCommand.Verify.class})
final class AuditCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliContext context;

  AuditCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(context.err());
    return ExitStatus.USAGE;
  }

  @Command(
      name = "export",
      sortOptions = false,
      header = "Write audit events to standard output, oldest first, one JSON object per line.",
      description = {
        "Archived and live events alike, in chain order, streamed as the platform reads them. To"
            + " feed a SIEM incrementally, keep the last 'seq' written and pass it as --after-seq"
            + " next time. Standard error gets the count at the end.",
        "",
        "Example:",
        "  airlock audit export --after-seq \"$(tail -n1 audit.jsonl | jq .seq)\" >> audit.jsonl",
      })
  static final class Export implements Callable<Integer> {

    @Option(
        names = "--from",
        paramLabel = "INSTANT",
        description = "Only events at or after this instant (ISO 8601, e.g. 2026-11-01T00:00:00Z).")
    String from;

    @Option(
        names = "--to",
        paramLabel = "INSTANT",
        description = "Only events before this instant.")
    String to;

    @Option(
        names = "--after-seq",
        paramLabel = "SEQ",
        description = "Only events after this position in the chain.")
    Long afterSeq;

    private final CliContext context;

    Export(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      AirlockClient airlock = PlatformAccess.of(context).client();
      long written = 0;
      // The events are written on this thread as they arrive (not on the SDK's event loop), and
      // the platform's stream is read only as fast as standard output takes them.
      for (AuditEvent event :
          airlock
              .audit()
              .exportAuditEvents(instant("--from", from), instant("--to", to), afterSeq)
              .timeout(Duration.ofMinutes(5))
              .toIterable(256)) {
        Output.jsonLine(context.out(), event);
        written++;
      }
      context.out().flush();
      context.err().println(written + " events exported");
      return ExitStatus.OK;
    }
  }

  @Command(
      name = "verify",
      sortOptions = false,
      header = "Recompute the audit log's hash chain, through the archive and the live log.",
      description = {
        "Prints how many events were checked and where the chain starts; exit status 10 when it"
            + " does not verify (the line names the first event that does not match and why).",
      })
  static final class Verify implements Callable<Integer> {

    @Mixin OutputOption output;

    private final CliContext context;

    Verify(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      AuditVerification result =
          PlatformAccess.of(context)
              .client()
              .audit()
              .verifyAuditChain()
              .block(Duration.ofMinutes(30));
      if (output.json()) {
        Output.json(context.out(), result);
      } else if (Boolean.TRUE.equals(result.getValid())) {
        context
            .out()
            .println(
                "valid: "
                    + result.getChecked()
                    + " events checked"
                    + (result.getArchivedChecked() == null
                        ? ""
                        : " (" + result.getArchivedChecked() + " in the archive)")
                    + (result.getFirstSeq() == null || result.getFirstSeq() <= 1
                        ? ""
                        : ", from event " + result.getFirstSeq()));
      } else {
        context.out().println("NOT VALID: " + result.getReason());
      }
      return Boolean.TRUE.equals(result.getValid()) ? ExitStatus.OK : ExitStatus.AUDIT_INVALID;
    }
  }

  private static OffsetDateTime instant(String option, String value) {
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value);
    } catch (DateTimeParseException e) {
      throw CliException.usage(
          option + ": '" + value + "' is not an instant (expected e.g. 2026-11-01T00:00:00Z)");
    }
  }
}
