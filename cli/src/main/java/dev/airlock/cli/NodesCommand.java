package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.model.AgentKind;
import dev.airlock.sdk.model.AgentPage;
import dev.airlock.sdk.model.TunnelTarget;
import dev.airlock.sdk.tunnel.TunnelConnector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code airlock nodes …}: the edge nodes and what they expose through their tunnels. */
@Command(
    name = "nodes",
    header = "List edge nodes and the targets they expose.",
    description = {
      "An edge node is a machine (often behind NAT) whose agent keeps a reverse tunnel to the"
          + " cluster and declares what may be reached through it: its SSH server (target 'ssh'),"
          + " web apps ('app:NAME') and TCP ports ('tcp:PORT'). Reach them with 'airlock ssh',"
          + " 'airlock proxy app' and 'airlock proxy tcp'.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {NodesCommand.ListNodes.class})
final class NodesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliContext context;

  NodesCommand(CliContext context) {
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
      header = "List the edge nodes you may see.",
      description = {
        "TARGETS are what each node exposes (ssh, app:NAME, tcp:PORT) as it declared them when it"
            + " last connected; LAST SEEN is when it was last connected (now, while online).",
      })
  static final class ListNodes implements Callable<Integer> {

    @Option(
        names = "--label",
        paramLabel = "KEY=VALUE",
        description =
            "Only nodes carrying this label (repeatable: all of them), e.g. --label site=lab.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(
        names = "--cluster",
        paramLabel = "CLUSTER",
        description =
            "A trusted (leaf) cluster: its nodes that you may see there, as the leaf decides.")
    String cluster;

    @Mixin OutputOption output;

    private final CliContext context;

    ListNodes(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      List<String> selector = new ArrayList<>();
      labels.forEach((key, value) -> selector.add(key + "=" + value));
      List<Agent> nodes = list(PlatformAccess.of(context).client(), cluster, selector);
      if (output.json()) {
        Output.json(context.out(), nodes);
        return ExitStatus.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Agent node : nodes) {
        // Cells may be null (no labels, no targets): printed as '-'.
        rows.add(
            Arrays.asList(
                String.valueOf(node.getName()),
                Boolean.TRUE.equals(node.getOnline()) ? "yes" : "no",
                labels(node.getLabels()),
                String.join(",", targets(node)),
                String.valueOf(Output.instant(node.getLastSeenAt()))));
      }
      Output.table(
          context.out(), List.of("NAME", "ONLINE", "LABELS", "TARGETS", "LAST SEEN"), rows);
      return ExitStatus.OK;
    }
  }

  /**
   * Every edge node the caller may list that carries all of {@code labels} ({@code key=value}): of
   * this cluster, or of the trusted cluster {@code cluster} when it is not null.
   */
  static List<Agent> list(AirlockClient airlock, String cluster, List<String> labels) {
    if (cluster != null) {
      return airlock
          .clusterNodes(cluster, TunnelConnector.DEFAULT_OPEN_TIMEOUT)
          .block(ProxyCommand.OPEN_LIMIT)
          .stream()
          .filter(node -> carries(node, labels))
          .toList();
    }
    return agents(airlock, AgentKind.NODE, labels);
  }

  /** Every agent of {@code kind} the caller may list that carries all of {@code labels}. */
  static List<Agent> agents(AirlockClient airlock, AgentKind kind, List<String> labels) {
    List<Agent> found = new ArrayList<>();
    String cursor = null;
    do {
      AgentPage page =
          airlock
              .agents()
              .listAgents(
                  kind, null, labels.isEmpty() ? null : labels, ContainersCommand.PAGE_SIZE, cursor)
              .block(PlatformAccess.CALL_TIMEOUT);
      found.addAll(page.getItems());
      cursor = page.getNextCursor();
    } while (cursor != null && !cursor.isEmpty());
    return found;
  }

  private static boolean carries(Agent node, List<String> labels) {
    Map<String, String> has = node.getLabels() == null ? Map.of() : node.getLabels();
    return labels.stream()
        .allMatch(
            pair -> {
              int eq = pair.indexOf('=');
              return eq > 0 && pair.substring(eq + 1).equals(has.get(pair.substring(0, eq)));
            });
  }

  /** The names of the node's targets, as it declared them. */
  static List<String> targets(Agent node) {
    List<TunnelTarget> targets = node.getTargets();
    return targets == null ? List.of() : targets.stream().map(TunnelTarget::getName).toList();
  }

  static String labels(Map<String, String> labels) {
    if (labels == null || labels.isEmpty()) {
      return null;
    }
    List<String> pairs = new ArrayList<>();
    labels.forEach((key, value) -> pairs.add(key + "=" + value));
    return String.join(",", pairs);
  }
}
