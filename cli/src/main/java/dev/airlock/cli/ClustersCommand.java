package dev.airlock.cli;

import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code airlock clusters …}: the trusted (leaf) clusters whose nodes this cluster reaches. */
@Command(
    name = "clusters",
    header = "List the trusted (leaf) clusters this cluster reaches.",
    description = {
      "A leaf cluster trusts this one: its link keeps a reverse tunnel here, and your commands"
          + " reach its nodes with --cluster NAME ('nodes ls', 'ssh', 'proxy'); the leaf decides"
          + " with its own mapping of your roles. See docs/trusted-clusters.md.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {ClustersCommand.ListClusters.class})
final class ClustersCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliContext context;

  ClustersCommand(CliContext context) {
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
      header = "List the trusted clusters you may see.",
      description = {
        "ONLINE says whether the cluster's link is connected now (a cluster offline cannot be"
            + " reached); LAST SEEN is when it last was.",
      })
  static final class ListClusters implements Callable<Integer> {

    @Mixin OutputOption output;

    private final CliContext context;

    ListClusters(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      List<Agent> clusters =
          NodesCommand.agents(PlatformAccess.of(context).client(), AgentKind.CLUSTER, List.of());
      if (output.json()) {
        Output.json(context.out(), clusters);
        return ExitStatus.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Agent cluster : clusters) {
        rows.add(
            Arrays.asList(
                String.valueOf(cluster.getName()),
                Boolean.TRUE.equals(cluster.getOnline()) ? "yes" : "no",
                NodesCommand.labels(cluster.getLabels()),
                String.valueOf(Output.instant(cluster.getLastSeenAt()))));
      }
      Output.table(context.out(), List.of("NAME", "ONLINE", "LABELS", "LAST SEEN"), rows);
      return ExitStatus.OK;
    }
  }
}
