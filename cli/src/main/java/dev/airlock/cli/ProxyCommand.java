package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.model.Agent;
import dev.airlock.sdk.tunnel.TunnelConnector;
import dev.airlock.sdk.tunnel.TunnelStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code airlock proxy …}: the targets of edge nodes, through their tunnels, as standard input and
 * output ({@code ssh}, for OpenSSH) or as a local listener ({@code app}, {@code tcp}).
 */
@Command(
    name = "proxy",
    header = "Reach what an edge node exposes: its SSH server, a web app, a TCP port.",
    description = {
      "Each connection is a tunnel session of its own, checked by the platform (your rules on the"
          + " node's labels; for SSH, the login) and audited. See 'airlock nodes ls' for the"
          + " nodes and their targets.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {ProxyCommand.Ssh.class, ProxyCommand.App.class, ProxyCommand.Tcp.class})
final class ProxyCommand implements Callable<Integer> {

  /**
   * The longest a connection waits for its tunnel: the platform's answer, then the signal node,
   * then the stream.
   */
  static final Duration OPEN_LIMIT =
      PlatformAccess.CALL_TIMEOUT
          .plus(TunnelConnector.DEFAULT_OPEN_TIMEOUT.multipliedBy(2))
          .plusSeconds(5);

  private static final Pattern APP_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
  private static final Duration CLOSE_LIMIT = Duration.ofSeconds(5);

  @Spec CommandSpec spec;

  private final CliContext context;

  ProxyCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(context.err());
    return ExitStatus.USAGE;
  }

  /**
   * Opens a tunnel with the credentials of this run (refreshed first if need be), to {@code node}
   * of the trusted cluster {@code cluster} when that is not null.
   */
  static TunnelStream open(
      CliContext context, String cluster, String node, String target, String login) {
    AirlockClient airlock = PlatformAccess.of(context).client();
    return (cluster == null
            ? airlock.tunnel(node, target, login)
            : airlock.tunnelInCluster(
                cluster, node, target, login, TunnelConnector.DEFAULT_OPEN_TIMEOUT))
        .block(OPEN_LIMIT);
  }

  /** {@code --cluster}, for the commands that reach a node (a picocli mixin). */
  static final class ClusterOption {

    @Option(
        names = "--cluster",
        paramLabel = "CLUSTER",
        description =
            "A trusted (leaf) cluster: reach the node there, through this cluster (the leaf"
                + " decides, with its own mapping of your roles).")
    String name;
  }

  // --- ssh --------------------------------------------------------------------------------------

  @Command(
      name = "ssh",
      sortOptions = false,
      header = "Carry one SSH connection over standard input and output (OpenSSH's ProxyCommand).",
      description = {
        "Opens a tunnel to the node's SSH server as LOGIN and copies standard input to it and its"
            + " answers to standard output, until either ends. Standard output carries nothing"
            + " else; errors are one line on standard error. The port is accepted and ignored:"
            + " the node's declared 'ssh' target is used. 'airlock ssh' sets this up for you.",
      },
      footerHeading = "%nExamples:%n",
      footer = {
        "  ssh -o ProxyCommand='airlock proxy ssh %%r@%%h:%%p' deploy@edge-1",
        "  # or in ~/.ssh/config:",
        "  Host edge-*",
        "      ProxyCommand airlock proxy ssh %%r@%%h:%%p",
      })
  static final class Ssh implements Callable<Integer> {

    @Parameters(
        paramLabel = "LOGIN@NODE[:PORT]",
        description = "The account on the node, the node's name (or id), and a port (ignored).")
    String destination;

    @Mixin ClusterOption cluster;

    private final CliContext context;

    Ssh(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      Destination to = Destination.parse(destination);
      TunnelStream stream = open(context, cluster.name, to.node(), "ssh", to.login());
      // ssh ends its proxy with SIGHUP: the node is told, rather than finding the socket dropped.
      Thread onSignal =
          new Thread(() -> stream.close().block(CLOSE_LIMIT), "airlock-proxy-ssh-close");
      Runtime.getRuntime().addShutdownHook(onSignal);
      TunnelPipe.sendUntilEnd(stream, context.in(), "airlock-stdin");
      try {
        TunnelPipe.receiveInto(stream, context.out());
      } catch (IOException standardOutputGone) {
        // ssh went away: end the session.
      } finally {
        stream.close().block(CLOSE_LIMIT);
        try {
          Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
          // The hook is running or ran: nothing to remove.
        }
      }
      return ExitStatus.OK;
    }
  }

  /** {@code LOGIN@NODE[:PORT]}, as OpenSSH expands {@code %r@%h:%p}. */
  record Destination(String login, String node) {

    static Destination parse(String text) {
      String expected =
          " (expected: LOGIN@NODE[:PORT]; with OpenSSH: ProxyCommand airlock proxy ssh %r@%h:%p)";
      int at = text.lastIndexOf('@');
      if (at <= 0) {
        throw CliException.usage("no login in '" + text + "'" + expected);
      }
      String login = text.substring(0, at);
      String node = text.substring(at + 1);
      int colon = node.lastIndexOf(':');
      if (colon >= 0) {
        String port = node.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}")) {
          throw CliException.usage(
              "port '" + port + "' in '" + text + "' (expected: a number; it is ignored)");
        }
        node = node.substring(0, colon);
      }
      if (node.isEmpty()) {
        throw CliException.usage("no node in '" + text + "'" + expected);
      }
      return new Destination(login, node);
    }
  }

  // --- app --------------------------------------------------------------------------------------

  @Command(
      name = "app",
      sortOptions = false,
      header = "Forward a local port to a web app an edge node exposes.",
      description = {
        "Finds the node that exposes app:NAME (give --node when several do), listens on"
            + " --bind:--port, and opens a tunnel of its own for every connection accepted there,"
            + " until interrupted (Ctrl-C). The listener speaks plain HTTP; the node reaches an"
            + " https:// app over TLS. A connection whose tunnel fails is closed and reported on"
            + " standard error; the listener goes on.",
      },
      footerHeading = "%nExamples:%n",
      footer = {"  airlock proxy app grafana --port 3000    # then open http://127.0.0.1:3000"})
  static final class App implements Callable<Integer> {

    @Parameters(paramLabel = "NAME", description = "The app's name, as the node declares it.")
    String name;

    @Mixin ListenOptions listen;

    @Option(
        names = "--node",
        paramLabel = "NODE",
        description = "The node (name or id). Default: the only node that exposes the app.")
    String node;

    @Mixin ClusterOption cluster;

    private final CliContext context;

    App(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      if (!APP_NAME.matcher(name).matches()) {
        throw CliException.usage(
            "app name '"
                + name
                + "' (expected: lower-case letters, digits and '-', as the node declares it,"
                + " e.g. grafana)");
      }
      listen.check();
      String target = "app:" + name;
      String chosen = chooseNode(context, cluster.name, node, target);
      return forward(
          context,
          listen,
          cluster.name,
          chosen,
          target,
          "http://%s to app " + name + " on node " + chosen + inCluster(cluster.name));
    }
  }

  // --- tcp --------------------------------------------------------------------------------------

  @Command(
      name = "tcp",
      sortOptions = false,
      header = "Forward a local port to a TCP port an edge node exposes.",
      description = {
        "Listens on --bind:--port and opens a tunnel of its own to the node's tcp:PORT target for"
            + " every connection accepted there, until interrupted (Ctrl-C). A connection whose"
            + " tunnel fails is closed and reported on standard error; the listener goes on.",
      },
      footerHeading = "%nExamples:%n",
      footer = {
        "  airlock proxy tcp edge-1:6443 --port 6443   # e.g. a Kubernetes API on the node"
      })
  static final class Tcp implements Callable<Integer> {

    @Parameters(
        paramLabel = "NODE:PORT",
        description = "The node (name or id) and the port it exposes (its tcp:PORT target).")
    String destination;

    @Mixin ListenOptions listen;

    @Mixin ClusterOption cluster;

    private final CliContext context;

    Tcp(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      int colon = destination.lastIndexOf(':');
      String port = colon < 0 ? "" : destination.substring(colon + 1);
      if (colon <= 0 || !validPort(port)) {
        throw CliException.usage(
            "'"
                + destination
                + "' (expected: NODE:PORT with a port of 1..65535, e.g. edge-1:6443)");
      }
      listen.check();
      int remotePort = Integer.parseInt(port);
      String target = "tcp:" + remotePort;
      String chosen = chooseNode(context, cluster.name, destination.substring(0, colon), target);
      return forward(
          context,
          listen,
          cluster.name,
          chosen,
          target,
          "%s to port " + remotePort + " on node " + chosen + inCluster(cluster.name));
    }

    private static boolean validPort(String port) {
      return port.matches("[0-9]{1,5}")
          && Integer.parseInt(port) >= 1
          && Integer.parseInt(port) <= 65535;
    }
  }

  /** Where {@code proxy app} and {@code proxy tcp} listen (a picocli mixin). */
  static final class ListenOptions {

    @Option(
        names = "--port",
        required = true,
        paramLabel = "PORT",
        description = "The local port to listen on; 0 picks a free one (printed).")
    int port;

    @Option(
        names = "--bind",
        paramLabel = "ADDRESS",
        defaultValue = "127.0.0.1",
        description =
            "The local address to listen on. Default: ${DEFAULT-VALUE}. Another address lets"
                + " whoever reaches it use the tunnel as you.")
    String bind;

    void check() {
      if (port < 0 || port > 65535) {
        throw CliException.usage("--port " + port + " (expected: 0..65535)");
      }
    }
  }

  /**
   * The node to open tunnels to {@code target} on: {@code named} when given (checked against the
   * nodes the caller may list, when it is among them), else the only node exposing the target.
   */
  static String chooseNode(CliContext context, String cluster, String named, String target) {
    AirlockClient airlock = PlatformAccess.of(context).client();
    List<Agent> nodes;
    try {
      nodes = NodesCommand.list(airlock, cluster, List.of());
    } catch (AirlockProblemException refused) {
      if (named != null && refused.status() == 403) {
        // Connecting may be allowed where listing is not: the platform decides per connection.
        return named;
      }
      throw refused;
    }
    if (named != null) {
      Optional<Agent> found =
          nodes.stream()
              .filter(
                  candidate ->
                      named.equals(candidate.getName())
                          || named.equalsIgnoreCase(String.valueOf(candidate.getId())))
              .findFirst();
      if (found.isEmpty()) {
        context
            .err()
            .println(
                "note: node " + named + " is not among the nodes you may list; trying it anyway");
        return named;
      }
      List<String> targets = NodesCommand.targets(found.get());
      if (!targets.contains(target)) {
        throw new CliException(
            ExitStatus.NOT_FOUND,
            "node "
                + named
                + " does not expose "
                + target
                + " (it exposes "
                + (targets.isEmpty() ? "nothing" : String.join(", ", targets))
                + "; see 'airlock nodes ls')");
      }
      noteOffline(context.err(), found.get());
      return found.get().getName();
    }
    List<Agent> exposing =
        nodes.stream().filter(node -> NodesCommand.targets(node).contains(target)).toList();
    if (exposing.isEmpty()) {
      throw new CliException(
          ExitStatus.NOT_FOUND,
          "no node you may see exposes " + target + " (see 'airlock nodes ls')");
    }
    if (exposing.size() > 1) {
      throw CliException.usage(
          "several nodes expose "
              + target
              + ": "
              + String.join(", ", exposing.stream().map(Agent::getName).toList())
              + " (choose one with --node NODE)");
    }
    noteOffline(context.err(), exposing.get(0));
    return exposing.get(0).getName();
  }

  private static void noteOffline(PrintStream err, Agent node) {
    if (!Boolean.TRUE.equals(node.getOnline())) {
      err.println(
          "note: node " + node.getName() + " is offline now: connections fail until it is back");
    }
  }

  /**
   * Listens and forwards until interrupted.
   *
   * @param what what is forwarded, with {@code %s} for the local address
   */
  private static int forward(
      CliContext context,
      ListenOptions listen,
      String cluster,
      String node,
      String target,
      String what) {
    InetAddress address;
    try {
      address = InetAddress.getByName(listen.bind);
    } catch (UnknownHostException e) {
      throw CliException.usage(
          "--bind " + listen.bind + ": unknown (expected: a local address such as 127.0.0.1)");
    }
    ErrorReporter reporter =
        new ErrorReporter(context.err(), false, context.env(PlatformAccess.API_KEY_ENV));
    TunnelListener listener;
    try {
      listener =
          TunnelListener.bind(
              new InetSocketAddress(address, listen.port),
              () -> open(context, cluster, node, target, null),
              line -> {
                context.err().println(reporter.mask(ErrorReporter.PREFIX + line));
                context.err().flush();
              },
              reporter::line);
    } catch (IOException e) {
      throw CliException.usage(
          "cannot listen on "
              + hostPort(address, listen.port)
              + ": "
              + e.getMessage()
              + " (choose another --port or --bind)");
    }
    try (listener) {
      String local = hostPort(address, listener.address().getPort());
      if (!address.isLoopbackAddress()) {
        context
            .err()
            .println(
                "note: listening on " + local + ": whoever can reach it uses the tunnel as you");
      }
      context.out().println("Forwarding " + what.formatted(local) + "; Ctrl-C to stop");
      context.out().flush();
      // Ctrl-C: the open tunnels are closed as the client's end before the process exits.
      Thread onSignal = new Thread(listener::close, "airlock-proxy-close");
      Runtime.getRuntime().addShutdownHook(onSignal);
      try {
        listener.run();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(onSignal);
        } catch (IllegalStateException shuttingDown) {
          // The hook is running or ran: nothing to remove.
        }
      }
    }
    return ExitStatus.OK;
  }

  private static String inCluster(String cluster) {
    return cluster == null ? "" : " in cluster " + cluster;
  }

  private static String hostPort(InetAddress address, int port) {
    String host = address.getHostAddress();
    return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
  }
}
