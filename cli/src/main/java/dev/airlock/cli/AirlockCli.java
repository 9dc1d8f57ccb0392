package dev.airlock.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.reflect.Constructor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code airlock} program: {@code java -jar airlock-cli.jar COMMAND [OPTIONS]}, usually through
 * {@code cli/bin/airlock}. {@link #run(String[], CliContext)} is the whole program but for {@code
 * System.exit}, so that tests can run it in-process; it returns one of the {@link ExitStatus} codes
 * and never throws.
 */
@Command(
    name = "airlock",
    mixinStandardHelpOptions = true,
    versionProvider = AirlockCli.Version.class,
    scope = ScopeType.INHERIT,
    sortOptions = false,
    usageHelpAutoWidth = true,
    header = "Airlock's command-line client.",
    description = {
      "Launch, wait for, list and delete ephemeral containers on an Airlock platform, and list"
          + " the images they are made from. Reach what edge nodes expose through their reverse"
          + " tunnels: SSH ('airlock ssh'), web apps and TCP ports ('airlock proxy').",
      "",
      "Credentials: AIRLOCK_API_KEY (an API key, alk_…) with AIRLOCK_URL when both are set, as"
          + " in CI scripts; otherwise the login stored by 'airlock login' (in"
          + " ~/.config/airlock/credentials.json, or $AIRLOCK_CONFIG_DIR), refreshed as needed.",
      "",
      "Run 'airlock COMMAND --help' for a command's options.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {
      LoginCommand.class,
      LogoutCommand.class,
      ContainersCommand.class,
      ImagesCommand.class,
      NodesCommand.class,
      ClustersCommand.class,
      SshCommand.class,
      ProxyCommand.class,
      JobsCommand.class,
      AuditCommand.class,
      CommandLine.HelpCommand.class
    })
public final class AirlockCli implements Callable<Integer> {

  static final String DEBUG = "--debug";

  @Spec CommandSpec spec;

  private final CliContext context;

  @Option(
      names = DEBUG,
      scope = ScopeType.INHERIT,
      description = "On an error, print its stack trace too (never a credential).")
  boolean debug;

  AirlockCli(CliContext context) {
    this.context = context;
  }

  public static void main(String[] args) {
    System.exit(run(args, CliContext.system()));
  }

  /** Runs one command line and returns its exit status. */
  static int run(String[] args, CliContext context) {
    boolean debug = debugRequested(args);
    if (debug) {
      // Before the first logger is made: simplelogger.properties keeps logging off otherwise.
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
      System.setProperty("org.slf4j.simpleLogger.log.io.netty", "info");
      System.setProperty("org.slf4j.simpleLogger.log.reactor", "info");
    }
    ErrorReporter errors =
        new ErrorReporter(context.err(), debug, context.env(PlatformAccess.API_KEY_ENV));
    try {
      CommandLine commandLine = commandLine(context);
      commandLine.setParameterExceptionHandler(
          (problem, arguments) -> {
            String command = problem.getCommandLine().getCommandSpec().qualifiedName();
            context
                .err()
                .println(
                    errors.mask(
                        ErrorReporter.PREFIX
                            + problem.getMessage()
                            + " (see '"
                            + command
                            + " --help')"));
            context.err().flush();
            return ExitStatus.USAGE;
          });
      commandLine.setExecutionExceptionHandler(
          (failure, command, parseResult) -> errors.report(failure));
      return commandLine.execute(args);
    } catch (RuntimeException | LinkageError e) {
      return errors.report(e);
    } finally {
      context.out().flush();
      context.err().flush();
    }
  }

  /** The picocli command line, its commands made with the context. */
  static CommandLine commandLine(CliContext context) {
    CommandLine commandLine = new CommandLine(AirlockCli.class, new Factory(context));
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setOut(new PrintWriter(context.out(), true));
    commandLine.setErr(new PrintWriter(context.err(), true));
    // ssh's own options and the remote command follow 'airlock ssh' as they are: they are read as
    // ssh reads them, not by picocli.
    commandLine
        .getSubcommands()
        .get("ssh")
        .setUnmatchedOptionsArePositionalParams(true)
        .setStopAtPositional(true);
    inheritExitCodes(commandLine);
    return commandLine;
  }

  private static void inheritExitCodes(CommandLine commandLine) {
    commandLine
        .getCommandSpec()
        .usageMessage()
        .exitCodeListHeading("%nExit status:%n")
        .exitCodeList(exitCodes());
    for (CommandLine sub : commandLine.getSubcommands().values()) {
      inheritExitCodes(sub);
    }
  }

  private static Map<String, String> exitCodes() {
    Map<String, String> codes = new LinkedHashMap<>();
    for (String entry : ExitStatus.HELP) {
      int colon = entry.indexOf(':');
      codes.put(entry.substring(0, colon), entry.substring(colon + 1));
    }
    return codes;
  }

  /** Without a command: the usage, on standard error, and the usage error status. */
  @Override
  public Integer call() {
    spec.commandLine().usage(context.err());
    return ExitStatus.USAGE;
  }

  private static boolean debugRequested(String[] args) {
    for (String arg : args) {
      if (arg.equals("--")) {
        return false;
      }
      if (arg.equals(DEBUG)) {
        return true;
      }
    }
    return false;
  }

  /** Makes commands with a {@link CliContext} constructor with this run's context. */
  private record Factory(CliContext context) implements CommandLine.IFactory {

    @Override
    public <K> K create(Class<K> type) throws Exception {
      try {
        Constructor<K> constructor = type.getDeclaredConstructor(CliContext.class);
        constructor.setAccessible(true);
        return constructor.newInstance(context);
      } catch (NoSuchMethodException noContext) {
        return CommandLine.defaultFactory().create(type);
      }
    }
  }

  /** The version from the jar's build. */
  static final class Version implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
      Properties properties = new Properties();
      try (InputStream in = AirlockCli.class.getResourceAsStream("/airlock-cli.properties")) {
        if (in != null) {
          properties.load(in);
        }
      } catch (IOException e) {
        // Reported as "dev" below.
      }
      return new String[] {"airlock " + properties.getProperty("version", "dev")};
    }
  }
}
