package dev.airlock.cli;

import picocli.CommandLine.Option;

/** The {@code --output} option of the commands that print results (a picocli mixin). */
final class OutputOption {

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      defaultValue = "text",
      description =
          "text (for people) or json (for scripts: exactly one JSON document on standard output,"
              + " in the API's own shape; progress and errors go to standard error)."
              + " Default: ${DEFAULT-VALUE}.")
  Output.Format format = Output.Format.text;

  boolean json() {
    return format == Output.Format.json;
  }
}
