package dev.airlock.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A private Xvfb for a test class, on the first free display number from :90. */
final class VirtualDisplay implements AutoCloseable {

  final String name;
  private final Process xvfb;

  private VirtualDisplay(String name, Process xvfb) {
    this.name = name;
    this.xvfb = xvfb;
  }

  static VirtualDisplay start(int width, int height) throws Exception {
    return start(width, height, List.of());
  }

  /** As {@link #start(int, int)}, with more Xvfb options (e.g. {@code -extension DAMAGE}). */
  static VirtualDisplay start(int width, int height, List<String> options) throws Exception {
    for (int n = 90; n < 200; n++) {
      if (Files.exists(Path.of("/tmp/.X11-unix/X" + n))
          || Files.exists(Path.of("/tmp/.X" + n + "-lock"))) {
        continue;
      }
      List<String> command =
          new ArrayList<>(
              List.of(
                  "Xvfb",
                  ":" + n,
                  "-screen",
                  "0",
                  width + "x" + height + "x24",
                  "-nolisten",
                  "tcp",
                  // Without it the server resets, root colour and all, whenever its last client
                  // leaves, e.g. an xsetroot run before the capture has connected.
                  "-noreset"));
      command.addAll(options);
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      Path socket = Path.of("/tmp/.X11-unix/X" + n);
      for (int i = 0; i < 100 && process.isAlive() && !Files.exists(socket); i++) {
        Thread.sleep(50);
      }
      if (process.isAlive() && Files.exists(socket)) {
        VirtualDisplay display = new VirtualDisplay(":" + n, process);
        display.run("xsetroot", "-solid", "black");
        return display;
      }
      process.destroyForcibly();
    }
    throw new IllegalStateException("no free X display number in :90..:199");
  }

  /** Runs an X client on this display; returns its output. */
  String run(String... command) throws IOException, InterruptedException {
    return exec(null, command);
  }

  /** Runs an X client on this display with {@code input} on its standard input. */
  String feed(String input, String... command) throws IOException, InterruptedException {
    return exec(input, command);
  }

  private String exec(String input, String... command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("DISPLAY", name);
    if (input != null) {
      // xclip -i keeps a child serving the selection: its output must not hold our pipe.
      builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
    }
    Process process = builder.start();
    if (input != null) {
      try (var in = process.getOutputStream()) {
        in.write(input.getBytes(StandardCharsets.UTF_8));
      }
    } else {
      process.getOutputStream().close();
    }
    String out =
        input != null
            ? ""
            : new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException(List.of(command) + " did not finish");
    }
    return out.strip();
  }

  /** The pointer position, from xdotool. */
  int[] pointer() throws IOException, InterruptedException {
    List<Integer> xy = new ArrayList<>();
    for (String part : run("xdotool", "getmouselocation").split(" ")) {
      if (part.startsWith("x:") || part.startsWith("y:")) {
        xy.add(Integer.parseInt(part.substring(2)));
      }
    }
    return new int[] {xy.get(0), xy.get(1)};
  }

  @Override
  public void close() throws InterruptedException {
    xvfb.destroy();
    if (!xvfb.waitFor(5, TimeUnit.SECONDS)) {
      xvfb.destroyForcibly();
    }
  }
}
