package dev.airlock.cli;

import dev.airlock.sdk.api.ImagesApi;
import dev.airlock.sdk.model.Image;
import dev.airlock.sdk.model.ImagePage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code airlock images …}: the templates containers are launched from. */
@Command(
    name = "images",
    header = "List the images containers can be launched from.",
    description = {
      "An image is a container template an admin defined: the Docker image, its isolation,"
          + " resources, TTLs and warm pool.",
    },
    synopsisSubcommandLabel = "COMMAND",
    commandListHeading = "%nCommands:%n",
    subcommands = {ImagesCommand.ListImages.class})
final class ImagesCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  private final CliContext context;

  ImagesCommand(CliContext context) {
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
      header = "List the images you may see, by name.",
      description = {
        "TTL is the default and the longest a container may ask for; WARM is how many started"
            + " containers are ready to hand out now, of how many the image keeps.",
      })
  static final class ListImages implements Callable<Integer> {

    @Mixin OutputOption output;

    private final CliContext context;

    ListImages(CliContext context) {
      this.context = context;
    }

    @Override
    public Integer call() {
      ImagesApi images = PlatformAccess.of(context).client().images();
      List<Image> found = new ArrayList<>();
      String cursor = null;
      do {
        ImagePage page =
            images
                .listImages(ContainersCommand.PAGE_SIZE, cursor)
                .block(PlatformAccess.CALL_TIMEOUT);
        found.addAll(page.getItems());
        cursor = page.getNextCursor();
      } while (cursor != null && !cursor.isEmpty());
      if (output.json()) {
        Output.json(context.out(), found);
        return ExitStatus.OK;
      }
      List<List<String>> rows = new ArrayList<>();
      for (Image image : found) {
        rows.add(
            List.of(
                image.getName(),
                String.valueOf(image.getReference()),
                ttl(image.getDefaultTtlSeconds()) + " / " + ttl(image.getMaxTtlSeconds()),
                image.getWarmReady() + "/" + image.getWarmPool(),
                image.getDescription() == null ? "" : image.getDescription()));
      }
      Output.table(context.out(), List.of("NAME", "REFERENCE", "TTL", "WARM", "DESCRIPTION"), rows);
      return ExitStatus.OK;
    }

    private static String ttl(Integer seconds) {
      return seconds == null ? "-" : DurationConverter.format(Duration.ofSeconds(seconds));
    }
  }
}
