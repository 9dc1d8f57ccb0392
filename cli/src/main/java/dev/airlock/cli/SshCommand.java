package dev.airlock.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code airlock ssh}: OpenSSH's {@code ssh} with its connection carried by {@code airlock proxy
 * ssh} through the node's tunnel, and the node's host key recorded under the node's name.
 */
@Command(
    name = "ssh",
    sortOptions = false,
    header = "Log in to an edge node with OpenSSH, through the node's tunnel.",
    description = {
      "Runs the system's ssh with ProxyCommand set to this CLI ('airlock proxy ssh %%r@%%h:%%p')"
          + " and HostKeyAlias set to the node's name (known_hosts keys the node by its name), and"
          + " passes the other arguments on. The platform checks that your rules allow the login"
          + " on the node; the node's sshd then authenticates you as usual (keys, passwords)."
          + " Without a login, ssh's own default applies (your local user name, or User in"
          + " ~/.ssh/config).",
      "",
      "ssh options go before the destination (e.g. -i KEY, -L, -A, -t, -v, -o OPTION=VALUE);"
          + " -p is ignored (the node's declared ssh target is used), -J and a ProxyCommand or"
          + " ProxyJump of your own are refused. The child ssh and its proxy use this run's"
          + " credentials. AIRLOCK_SSH names another ssh program.",
      "",
      "The exit status is ssh's (255 for its own errors, e.g. when the tunnel could not be"
          + " opened: the proxy's line on standard error says why).",
    },
    footerHeading = "%nExamples:%n",
    footer = {
      "  airlock ssh deploy@edge-1",
      "  airlock ssh -l deploy edge-1 uptime",
      "  airlock ssh -i ~/.ssh/edge -L 8080:localhost:80 deploy@edge-1",
    })
final class SshCommand implements Callable<Integer> {

  /** The program to run instead of {@code ssh}. */
  static final String SSH_ENV = "AIRLOCK_SSH";

  /** How to run this CLI again; {@code cli/bin/airlock} sets it to itself. */
  static final String CLI_ENV = "AIRLOCK_CLI";

  /** ssh's options that take a value (OpenSSH's getopt string), and those that do not. */
  private static final String WITH_VALUE = "BbcDEeFIiJLlmOoPpQRSWw";

  private static final String FLAGS = "1246AaCfGgKkMNnqsTtVvXxYy";

  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=@%+,-]+");

  @Parameters(
      arity = "1..*",
      paramLabel = "ARG",
      description = "[SSH-OPTIONS] [LOGIN@]NODE [COMMAND [ARG...]]")
  List<String> arguments = new ArrayList<>();

  @Option(
      names = "--cluster",
      paramLabel = "CLUSTER",
      description =
          "A trusted (leaf) cluster: reach NODE there, through this cluster (the leaf decides,"
              + " with its own mapping of your roles). Before the destination or right after it.")
  String cluster;

  @ParentCommand AirlockCli root;

  private final CliContext context;

  SshCommand(CliContext context) {
    this.context = context;
  }

  @Override
  public Integer call() throws InterruptedException {
    Invocation invocation = Invocation.parse(arguments);
    if (cluster != null && invocation.cluster() != null && !cluster.equals(invocation.cluster())) {
      throw CliException.usage(
          "--cluster "
              + cluster
              + " and --cluster "
              + invocation.cluster()
              + " (expected: one trusted cluster)");
    }
    String cluster = this.cluster != null ? this.cluster : invocation.cluster();
    // Fails here, in one line, rather than inside ssh, when there is no usable login.
    PlatformAccess.of(context).client();
    String ssh = context.env(SSH_ENV) != null ? context.env(SSH_ENV) : "ssh";
    List<String> command =
        invocation.command(
            ssh,
            proxyCommand(launcher(context), root != null && root.debug, cluster),
            cluster == null ? invocation.node() : cluster + "/" + invocation.node());
    ProcessBuilder builder = new ProcessBuilder(command).inheritIO();
    // The same credentials for the proxy that ssh starts (tests run with an environment of their
    // own).
    Map<String, String> environment = builder.environment();
    context
        .env()
        .forEach(
            (name, value) -> {
              if (name.startsWith("AIRLOCK_") || name.equals("XDG_CONFIG_HOME")) {
                environment.put(name, value);
              }
            });
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new CliException(
          ExitStatus.UNEXPECTED,
          "cannot run "
              + ssh
              + ": "
              + e.getMessage()
              + " (install OpenSSH's client, or set "
              + SSH_ENV
              + " to its path)");
    }
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      process.destroy();
      throw e;
    }
  }

  /**
   * The words that run this CLI: {@code $AIRLOCK_CLI} (the launcher script, which brings {@code
   * JAVA_OPTS} and finds the jar), else this JVM's {@code java} with its class path and system
   * properties.
   */
  static List<String> launcher(CliContext context) {
    String cli = context.env(CLI_ENV);
    if (cli != null) {
      return List.of(cli);
    }
    List<String> words = new ArrayList<>();
    words.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // E.g. a trust store or a proxy given with -D: the proxy needs them too.
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(argument -> argument.startsWith("-D"))
        .forEach(words::add);
    // A short-lived client, as in cli/bin/airlock.
    words.add("-XX:TieredStopAtLevel=1");
    words.add("-XX:+UseSerialGC");
    words.add("-cp");
    words.add(System.getProperty("java.class.path"));
    words.add(AirlockCli.class.getName());
    return words;
  }

  /** The ProxyCommand line: a shell command, so each word is quoted where it must be. */
  static String proxyCommand(List<String> launcher, boolean debug, String cluster) {
    List<String> words = new ArrayList<>();
    launcher.forEach(word -> words.add(shellQuoted(word)));
    if (debug) {
      words.add(AirlockCli.DEBUG);
    }
    words.add("proxy");
    words.add("ssh");
    if (cluster != null) {
      words.add("--cluster");
      words.add(shellQuoted(cluster));
    }
    // Expanded by ssh: the login, the destination's host (the node) and the port.
    words.add("%r@%h:%p");
    return String.join(" ", words);
  }

  static String shellQuoted(String word) {
    return SHELL_SAFE.matcher(word).matches() ? word : "'" + word.replace("'", "'\\''") + "'";
  }

  /** An {@code airlock ssh} command line, read as ssh reads its own. */
  record Invocation(
      List<String> options, String login, String node, String cluster, List<String> remote) {

    static Invocation parse(List<String> arguments) {
      List<String> options = new ArrayList<>();
      int i = 0;
      for (; i < arguments.size(); i++) {
        String argument = arguments.get(i);
        if (argument.equals("--")) {
          i++;
          break;
        }
        if (!argument.startsWith("-") || argument.length() == 1) {
          break;
        }
        for (int at = 1; at < argument.length(); at++) {
          char letter = argument.charAt(at);
          if (WITH_VALUE.indexOf(letter) >= 0) {
            String value;
            if (at + 1 < argument.length()) {
              value = argument.substring(at + 1);
            } else if (i + 1 < arguments.size()) {
              value = arguments.get(++i);
            } else {
              throw CliException.usage("ssh option -" + letter + " needs a value");
            }
            option(options, letter, value);
            break;
          }
          if (FLAGS.indexOf(letter) < 0) {
            throw CliException.usage(
                "unknown ssh option -"
                    + letter
                    + " (expected: an option of OpenSSH's ssh, before the destination)");
          }
          options.add("-" + letter);
        }
      }
      if (i >= arguments.size()) {
        throw CliException.usage("no destination (expected: [LOGIN@]NODE, e.g. deploy@edge-1)");
      }
      String destination = arguments.get(i);
      String host = destination;
      boolean uri = host.startsWith("ssh://");
      if (uri) {
        host = host.substring("ssh://".length());
      }
      String login = null;
      int at = host.lastIndexOf('@');
      if (at >= 0) {
        login = host.substring(0, at);
        host = host.substring(at + 1);
      }
      int colon = host.lastIndexOf(':');
      if (uri && colon >= 0) {
        host = host.substring(0, colon);
      }
      if (host.isEmpty()
          || host.contains(":")
          || host.contains("/")
          || login != null && login.isEmpty()) {
        throw CliException.usage(
            "destination '" + destination + "' (expected: [LOGIN@]NODE, e.g. deploy@edge-1)");
      }
      // 'airlock ssh LOGIN@NODE --cluster LEAF': right after the destination, still ours.
      String cluster = null;
      int rest = i + 1;
      if (rest < arguments.size() && arguments.get(rest).startsWith("--cluster=")) {
        cluster = arguments.get(rest).substring("--cluster=".length());
        rest++;
      } else if (rest < arguments.size() && arguments.get(rest).equals("--cluster")) {
        if (rest + 1 >= arguments.size()) {
          throw CliException.usage("--cluster needs a value (expected: --cluster CLUSTER)");
        }
        cluster = arguments.get(rest + 1);
        rest += 2;
      }
      if (cluster != null && cluster.isBlank()) {
        throw CliException.usage("--cluster: empty (expected: the name of a trusted cluster)");
      }
      return new Invocation(
          options, login, host, cluster, List.copyOf(arguments.subList(rest, arguments.size())));
    }

    private static void option(List<String> options, char letter, String value) {
      switch (letter) {
        case 'p' -> {
          // Ignored: the node's declared ssh target is used, and known_hosts keys by name only.
        }
        case 'J' ->
            throw CliException.usage(
                "-J: airlock ssh reaches the node through its tunnel (expected: no jump host)");
        case 'o' -> {
          String key = value.strip().split("[=\\s]", 2)[0].toLowerCase(Locale.ROOT);
          if (key.equals("proxycommand") || key.equals("proxyjump")) {
            throw CliException.usage(
                "-o "
                    + value
                    + ": airlock ssh sets ProxyCommand itself (expected: no ProxyCommand or"
                    + " ProxyJump)");
          }
          options.add("-o");
          options.add(value);
        }
        default -> {
          options.add("-" + letter);
          options.add(value);
        }
      }
    }

    /**
     * The ssh command line: the caller's options first (theirs win), then the tunnel's.
     *
     * @param hostKeyAlias what known_hosts keys the node's host key by
     */
    List<String> command(String ssh, String proxyCommand, String hostKeyAlias) {
      List<String> command = new ArrayList<>();
      command.add(ssh);
      command.addAll(options);
      command.add("-o");
      command.add("ProxyCommand=" + proxyCommand);
      command.add("-o");
      command.add("HostKeyAlias=" + hostKeyAlias);
      command.add(login == null ? node : login + "@" + node);
      command.addAll(remote);
      return command;
    }
  }
}
