package dev.airlock.agent.display;

import com.sun.jna.Pointer;
import dev.airlock.agent.display.ScreenCapture.Size;
import dev.airlock.agent.display.X11.Xlib;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The X display the agent shows to its viewers (one per process): its screen capture, its
 * clipboard, input injectors and resizing.
 */
public final class Display {

  private static final Logger log = LoggerFactory.getLogger(Display.class);

  /** The smallest size {@link #resize} asks for. */
  public static final Size MIN_SIZE = new Size(320, 200);

  /** The largest size {@link #resize} asks for. */
  public static final Size MAX_SIZE = new Size(3840, 2160);

  private static final long XRANDR_TIMEOUT_SECONDS = 5;

  private final String name;
  private final boolean resizable;
  private final ScreenCapture screen;
  private final Clipboard clipboard;

  /**
   * The display {@code name} (e.g. {@code :0}), captured at {@code fps} frames per second.
   *
   * @param resizable whether viewers may resize it: a virtual display (Xvfb in a container) follows
   *     the viewer's window; a person's desktop keeps its resolution
   */
  public Display(String name, int fps, boolean resizable) {
    this.name = name;
    this.resizable = resizable;
    this.screen = new ScreenCapture(name, fps);
    this.clipboard = new Clipboard(name);
  }

  /** Whether viewers may resize it ({@link #resize} leaves it as it is otherwise). */
  public boolean resizable() {
    return resizable;
  }

  /** The display's name, e.g. {@code :0}. */
  public String name() {
    return name;
  }

  /** The screen as a video source. */
  public ScreenCapture screen() {
    return screen;
  }

  /** The CLIPBOARD selection. */
  public Clipboard clipboard() {
    return clipboard;
  }

  /** A new injector with an X connection of its own (one per session); close it after use. */
  public InputInjector newInjector() {
    return new InputInjector(name, screen::inputInjected);
  }

  /** The root window's size now (asked on a worker thread when no capture runs). */
  public Mono<Size> size() {
    Size captured = screen.isRunning() ? screen.size() : null;
    if (captured != null) {
      return Mono.just(captured);
    }
    return Mono.fromCallable(this::querySize).subscribeOn(Schedulers.boundedElastic());
  }

  private Size querySize() {
    Pointer x = X11.open(name);
    try {
      int[] size = X11.rootSize(x);
      return new Size(size[0], size[1]);
    } finally {
      Xlib.INSTANCE.XCloseDisplay(x);
    }
  }

  /**
   * Asks the X server to make the screen {@code width × height}, clamped to {@link #MIN_SIZE} ..
   * {@link #MAX_SIZE}, with {@code xrandr --fb} (and, when the server wants a mode for it, a new
   * RandR mode); emits the size the screen then has, which is the old one when the server cannot
   * resize (Xvfb grows no larger than the framebuffer it started with), or when this display is not
   * {@link #resizable()}.
   */
  public Mono<Size> resize(int width, int height) {
    if (!resizable) {
      return Mono.fromCallable(this::querySize).subscribeOn(Schedulers.boundedElastic());
    }
    int w = Math.max(MIN_SIZE.width(), Math.min(MAX_SIZE.width(), width));
    int h = Math.max(MIN_SIZE.height(), Math.min(MAX_SIZE.height(), height));
    return Mono.fromCallable(
            () -> {
              Size before = querySize();
              if (before.width() == w && before.height() == h) {
                return before;
              }
              if (!xrandr("--fb", w + "x" + h)) {
                String mode = w + "x" + h;
                // Servers with RandR 1.2 outputs (Xvnc, Xorg's dummy driver) want a mode for it.
                xrandr(
                    "--newmode",
                    mode,
                    "0",
                    String.valueOf(w),
                    "0",
                    "0",
                    "0",
                    String.valueOf(h),
                    "0",
                    "0",
                    "0");
                String output = firstOutput();
                if (output != null) {
                  xrandr("--addmode", output, mode);
                  xrandr("--output", output, "--mode", mode);
                }
              }
              Size after = querySize();
              if (after.equals(before)) {
                log.info(
                    "Display {} stays {}x{}: the X server refused {}x{}",
                    name,
                    before.width(),
                    before.height(),
                    w,
                    h);
              }
              return after;
            })
        .subscribeOn(Schedulers.boundedElastic());
  }

  private String firstOutput() throws IOException, InterruptedException {
    Process process =
        command(List.of("xrandr", "--query"))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String out = new String(process.getInputStream().readAllBytes());
    process.waitFor(XRANDR_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    for (String line : out.split("\n")) {
      if (line.contains(" connected")) {
        return line.substring(0, line.indexOf(' '));
      }
    }
    return null;
  }

  private boolean xrandr(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>();
    command.add("xrandr");
    command.addAll(List.of(args));
    Process process =
        command(command)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!process.waitFor(XRANDR_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return false;
    }
    return process.exitValue() == 0;
  }

  private ProcessBuilder command(List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("DISPLAY", name);
    return builder;
  }
}
