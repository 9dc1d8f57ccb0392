package dev.airlock.cli;

import dev.airlock.sdk.AirlockClient;
import dev.airlock.sdk.AirlockProblemException;
import dev.airlock.sdk.ContainerLauncher;
import dev.airlock.sdk.ContainerLauncher.ContainerFailedException;
import dev.airlock.sdk.ContainerLauncher.ContainerTimeoutException;
import dev.airlock.sdk.api.ContainersApi;
import dev.airlock.sdk.model.Container;
import dev.airlock.sdk.model.ContainerCreate;
import dev.airlock.sdk.model.ContainerPage;
import dev.airlock.sdk.model.ContainerState;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code airlock containers …}: ephemeral containers, one subcommand per operation. */
@Command(
    name = "containers",
    header = "Launch, wait for, list and delete ephemeral containers.",
    description = {
      "A container is started from an image (see 'airlock images ls') on one of the platform's"
          + " provisioners and goes requested → provisioning → starting → ready; once ready, its"
          + " agent (its id is the container's 'agent') takes remote sessions. It is deleted when"
          + " its TTL expires, when it has been idle too long, or with 'airlock containers rm'.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {
      ContainersCommand.Create.class,
      ContainersCommand.ListContainers.class,
      ContainersCommand.Get.class,
      ContainersCommand.Remove.class
    })
final class ContainersCommand implements Callable<Integer> {

  static final Duration DEFAULT_WAIT = Duration.ofMinutes(5);
  static final int PAGE_SIZE = 100;

  @Spec CommandSpec spec;

  private final CliContext context;

  ContainersCommand(CliContext context) {
    this.context = context;
  }

  /** Without a subcommand: the usage, on standard error, and the usage error status. */
  @Override
  public Integer call() {
    spec.commandLine().usage(context.err());
    return ExitStatus.USAGE;
  }

  // --- create -----------------------------------------------------------------------------------

  @Command(
      name = "create",
      sortOptions = false,
      header = "Launch a container from an image.",
      description = {
        "Asks the platform for a container and prints it. The platform answers at once, usually"
            + " before the container is ready; with --wait this command waits until it is ready"
            + " (showing its state at a terminal) and ends with its id, state, agent and expiry.",
        "",
        "With --output json, standard output holds exactly one JSON document: the container as"
            + " last seen (also when it failed or the wait timed out, so that a script can delete"
            + " it).",
      },
      footerHeading = "%nExamples:%n",
      footer = {
        "  airlock containers create --image chromium --wait",
        "  airlock containers create --image chromium --ttl 30m \\",
        "      --label job=$CI_JOB_ID --idempotency-key ci-$CI_JOB_ID \\",
        "      --wait --output json > container.json",
      })
  static final class Create implements Callable<Integer> {

    @Option(
        names = "--image",
        required = true,
        paramLabel = "NAME",
        description = "The image to launch (see 'airlock images ls').")
    String image;

    @Option(
        names = "--ttl",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description =
            "How long it may live, e.g. 90s, 30m, 2h (at least 1m; at most the image's maximum)."
                + " Default: the image's default TTL.")
    Duration ttl;

    @Option(
        names = "--label",
        paramLabel = "KEY=VALUE",
        description = "A label for the container (repeatable), e.g. --label job=4711.")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(
        names = "--env",
        paramLabel = "NAME=VALUE",
        description =
            "A value for one of the image's editable variables (repeatable), e.g."
                + " --env START_URL=https://example.com.")
    Map<String, String> environment = new LinkedHashMap<>();

    @Option(
        names = "--idempotency-key",
        paramLabel = "KEY",
        description =
            "Any string of your choosing, e.g. a CI job id: repeating the command with the same"
                + " key returns the container the first one created (for 24 hours) instead of a"
                + " new one, so a retried CI step does not leak containers.")
    String idempotencyKey;

    @Option(names = "--wait", description = "Wait until the container is ready.")
    boolean waitReady;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description =
            "With --wait: how long to wait in all before giving up with exit status 7 (the"
                + " container is not deleted). Default: 5m.")
    Duration timeout;

    @Mixin OutputOption output;

    private final CliContext context;

    Create(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      long started = System.nanoTime();
      Duration waitFor = waitTimeout(waitReady, timeout);
      ContainerCreate request = new ContainerCreate().image(image);
      if (ttl != null) {
        request.ttlSeconds((int) Math.min(Integer.MAX_VALUE, ttl.toSeconds()));
      }
      if (!labels.isEmpty()) {
        request.labels(labels);
      }
      if (!environment.isEmpty()) {
        request.environment(environment);
      }
      ContainerLauncher launcher = ContainerLauncher.of(PlatformAccess.of(context).client());
      if (!waitReady) {
        Container accepted =
            launcher.launch(request, idempotencyKey).block(PlatformAccess.CALL_TIMEOUT);
        print(context, output, accepted);
        return ExitStatus.OK;
      }
      AtomicReference<Container> last = new AtomicReference<>();
      try (WaitProgress progress = WaitProgress.start(context, output.json(), started)) {
        Container ready =
            launcher
                .launchAndAwaitReady(
                    request,
                    idempotencyKey,
                    waitFor,
                    seen -> {
                      last.set(seen);
                      progress.accept(seen);
                    })
                .block(blockLimit(waitFor));
        progress.close();
        print(context, output, ready);
        return ExitStatus.OK;
      } catch (ContainerFailedException failed) {
        printOnFailure(context, output, failed.container());
        throw failed;
      } catch (ContainerTimeoutException timedOut) {
        printOnFailure(
            context, output, timedOut.container() != null ? timedOut.container() : last.get());
        throw timedOut;
      }
    }
  }

  // --- ls ---------------------------------------------------------------------------------------

  @Command(
      name = "ls",
      aliases = "list",
      sortOptions = false,
      header = "List containers, newest first.",
      description = {
        "Lists your containers (all of them for an admin) that are not yet deleted or failed;"
            + " --all adds those too, --state shows only one state.",
      })
  static final class ListContainers implements Callable<Integer> {

    @Option(names = "--all", description = "Also list deleted and failed containers.")
    boolean all;

    @Option(
        names = "--state",
        paramLabel = "STATE",
        converter = StateConverter.class,
        description =
            "Only containers in this state: requested, provisioning, starting, ready, stopping,"
                + " deleted or failed.")
    ContainerState state;

    @Mixin OutputOption output;

    private final CliContext context;

    ListContainers(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      ContainersApi containers = PlatformAccess.of(context).client().containers();
      Boolean active = all || state != null ? null : Boolean.TRUE;
      List<Container> found = new ArrayList<>();
      String cursor = null;
      do {
        ContainerPage page =
            containers
                .listContainers(state, active, PAGE_SIZE, cursor)
                .block(PlatformAccess.CALL_TIMEOUT);
        found.addAll(page.getItems());
        cursor = page.getNextCursor();
      } while (cursor != null && !cursor.isEmpty());
      if (output.json()) {
        Output.json(context.out(), found);
        return ExitStatus.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Container container : found) {
        rows.add(
            List.of(
                String.valueOf(container.getId()),
                String.valueOf(container.getImage()),
                String.valueOf(container.getState()),
                String.valueOf(container.getOwner()),
                String.valueOf(Output.instant(container.getExpiresAt()))));
      }
      Output.table(context.out(), List.of("ID", "IMAGE", "STATE", "OWNER", "EXPIRES"), rows);
      return ExitStatus.OK;
    }
  }

  // --- get --------------------------------------------------------------------------------------

  @Command(
      name = "get",
      sortOptions = false,
      header = "Show one container, or wait until it is ready.",
      description = {
        "Prints the container. With --wait, waits until it is ready first (exit status 6 if it"
            + " fails, 7 if the timeout passes first).",
      })
  static final class Get implements Callable<Integer> {

    @Parameters(
        paramLabel = "ID",
        converter = IdConverter.class,
        description = "The container's id (see 'airlock containers ls').")
    UUID id;

    @Option(names = "--wait", description = "Wait until the container is ready.")
    boolean waitReady;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description = "With --wait: how long to wait in all. Default: 5m.")
    Duration timeout;

    @Mixin OutputOption output;

    private final CliContext context;

    Get(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      long started = System.nanoTime();
      Duration waitFor = waitTimeout(waitReady, timeout);
      AirlockClient airlock = PlatformAccess.of(context).client();
      if (!waitReady) {
        Container container =
            airlock.containers().getContainer(id, null, null).block(PlatformAccess.CALL_TIMEOUT);
        print(context, output, container);
        return ExitStatus.OK;
      }
      try (WaitProgress progress = WaitProgress.start(context, output.json(), started)) {
        Container ready =
            ContainerLauncher.of(airlock)
                .awaitReady(id, waitFor, progress)
                .block(blockLimit(waitFor));
        progress.close();
        print(context, output, ready);
        return ExitStatus.OK;
      } catch (ContainerFailedException failed) {
        printOnFailure(context, output, failed.container());
        throw failed;
      } catch (ContainerTimeoutException timedOut) {
        printOnFailure(context, output, timedOut.container());
        throw timedOut;
      }
    }
  }

  // --- rm ---------------------------------------------------------------------------------------

  @Command(
      name = "rm",
      aliases = "delete",
      sortOptions = false,
      header = "Delete a container now.",
      description = {
        "Asks the platform to delete the container; its sessions end. The platform answers at"
            + " once (state stopping); with --wait, this command waits until it is deleted.",
      })
  static final class Remove implements Callable<Integer> {

    static final Duration POLL = Duration.ofSeconds(1);

    @Parameters(
        paramLabel = "ID",
        converter = IdConverter.class,
        description = "The container's id (see 'airlock containers ls').")
    UUID id;

    @Option(names = "--wait", description = "Wait until the container is deleted.")
    boolean waitDeleted;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        converter = DurationConverter.class,
        description = "With --wait: how long to wait in all. Default: 5m.")
    Duration timeout;

    @Mixin OutputOption output;

    private final CliContext context;

    Remove(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() throws InterruptedException {
      long started = System.nanoTime();
      Duration waitFor = waitTimeout(waitDeleted, timeout);
      ContainersApi containers = PlatformAccess.of(context).client().containers();
      Container container = containers.deleteContainer(id).block(PlatformAccess.CALL_TIMEOUT);
      if (!waitDeleted) {
        print(context, output, container);
        return ExitStatus.OK;
      }
      long deadline = started + waitFor.toNanos();
      try (WaitProgress progress = WaitProgress.start(context, output.json(), started)) {
        progress.accept(container);
        while (!ended(container)) {
          if (System.nanoTime() - deadline >= 0) {
            progress.close();
            printOnFailure(context, output, container);
            throw new CliException(
                ExitStatus.TIMED_OUT,
                "container "
                    + id
                    + " is not deleted after "
                    + DurationConverter.format(waitFor)
                    + " (last state: "
                    + container.getState()
                    + ")");
          }
          Thread.sleep(POLL.toMillis());
          try {
            container = containers.getContainer(id, null, null).block(PlatformAccess.CALL_TIMEOUT);
          } catch (AirlockProblemException gone) {
            if (gone.status() != 404) {
              throw gone;
            }
            container.state(ContainerState.DELETED);
          }
          progress.accept(container);
        }
      }
      print(context, output, container);
      return ExitStatus.OK;
    }

    private static boolean ended(Container container) {
      return container.getState() == ContainerState.DELETED
          || container.getState() == ContainerState.FAILED;
    }
  }

  // --- shared -----------------------------------------------------------------------------------

  /** The wait's timeout: {@code --timeout}, or the default; refused without {@code --wait}. */
  static Duration waitTimeout(boolean wait, Duration timeout) {
    return DurationConverter.waitTimeout(wait, timeout, DEFAULT_WAIT);
  }

  /** How long the main thread waits for a wait that ends itself at {@code timeout}. */
  static Duration blockLimit(Duration timeout) {
    return timeout.plus(PlatformAccess.CALL_TIMEOUT).plusSeconds(30);
  }

  /** Prints the result: one JSON document, or the container's fields for people. */
  static void print(CliContext context, OutputOption output, Container container) {
    if (output.json()) {
      Output.json(context.out(), container);
    } else {
      describe(context.out(), container, Instant.now());
    }
  }

  /** With {@code --output json}, the container as last seen still goes to standard output. */
  static void printOnFailure(CliContext context, OutputOption output, Container container) {
    if (output.json() && container != null) {
      Output.json(context.out(), container);
    }
  }

  /** The container's fields, one per line, for people. */
  static void describe(PrintStream out, Container container, Instant now) {
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("id", String.valueOf(container.getId()));
    fields.put("image", container.getImage());
    fields.put("state", String.valueOf(container.getState()));
    fields.put("reason", container.getReason());
    fields.put("owner", container.getOwner());
    fields.put("agent", container.getAgentId() == null ? null : container.getAgentId().toString());
    fields.put("labels", labels(container.getLabels()));
    fields.put("created", Output.instant(container.getCreatedAt()));
    fields.put("ready", Output.instant(container.getReadyAt()));
    fields.put(
        container.getEndedAt() == null ? "expires" : "ended",
        container.getEndedAt() == null
            ? Output.instantFromNow(container.getExpiresAt(), now)
            : Output.instant(container.getEndedAt()));
    fields.forEach(
        (name, value) -> {
          if (value != null && !value.isEmpty()) {
            out.printf("%-9s%s%n", name + ":", value);
          }
        });
    out.flush();
  }

  private static String labels(Map<String, String> labels) {
    if (labels == null || labels.isEmpty()) {
      return null;
    }
    List<String> pairs = new ArrayList<>();
    labels.forEach((key, value) -> pairs.add(key + "=" + value));
    return String.join(", ", pairs);
  }

  /** Reads a container id, naming what was expected when it is not one. */
  static final class IdConverter implements CommandLine.ITypeConverter<UUID> {

    @Override
    public UUID convert(String value) {
      try {
        return UUID.fromString(value.strip());
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'"
                + value
                + "' (expected: a container id such as 3f2a6c1e-8d4b-4b8e-9a51-0c1d2e3f4a5b;"
                + " see 'airlock containers ls')");
      }
    }
  }

  /** Reads a state by its name in the API ({@code ready}, …). */
  static final class StateConverter implements CommandLine.ITypeConverter<ContainerState> {

    @Override
    public ContainerState convert(String value) {
      try {
        return ContainerState.fromValue(value.strip().toLowerCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(
            "'"
                + value
                + "' (expected: requested, provisioning, starting, ready, stopping, deleted or"
                + " failed)");
      }
    }
  }
}
