package dev.airlock.cli;

import dev.airlock.sdk.model.Container;
import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Shows, on standard error, how a wait is going: at a terminal one line redrawn ten times a second
 * ({@code provisioning… 1.2s}), elsewhere (CI logs, {@code --output json}) one line per state
 * change. States arrive on the SDK's event-loop threads, which must not write to a terminal or a
 * pipe themselves: a thread of its own prints. Closing it prints what is pending and clears the
 * terminal line.
 */
final class WaitProgress implements Consumer<Container>, AutoCloseable {

  private static final String CLEAR_LINE = "\r\033[K";
  private static final long REDRAW_MILLIS = 100;
  private static final long DRAIN_MILLIS = 2000;

  private final PrintStream err;
  private final long startedNanos;
  private final boolean inPlace;
  private final ScheduledExecutorService printer;
  private String state;
  private boolean closed;

  private WaitProgress(PrintStream err, long startedNanos, boolean inPlace) {
    this.err = err;
    this.startedNanos = startedNanos;
    this.inPlace = inPlace;
    this.printer =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "airlock-progress");
              thread.setDaemon(true);
              return thread;
            });
    if (inPlace) {
      printer.scheduleAtFixedRate(this::draw, 0, REDRAW_MILLIS, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Starts showing progress; the elapsed time counts from {@code startedNanos} ({@link
   * System#nanoTime()}). The line is redrawn in place only at a terminal and in text output.
   */
  static WaitProgress start(CliContext context, boolean json, long startedNanos) {
    return new WaitProgress(context.err(), startedNanos, context.interactive() && !json);
  }

  /** Reports the container's state as last seen. */
  @Override
  public synchronized void accept(Container container) {
    String next = String.valueOf(container.getState());
    boolean changed = !next.equals(state);
    state = next;
    if (!inPlace && changed && !closed) {
      String line = line();
      printer.execute(
          () -> {
            err.println(line);
            err.flush();
          });
    }
  }

  private synchronized void draw() {
    if (state != null && !closed) {
      err.print(CLEAR_LINE + line());
      err.flush();
    }
  }

  private String line() {
    return state + "… " + elapsed((System.nanoTime() - startedNanos) / 1_000_000);
  }

  /** {@code 1.2s} under a minute, then {@code 1m05s}. */
  static String elapsed(long millis) {
    if (millis < 60_000) {
      return String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
    }
    long seconds = millis / 1000;
    return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
  }

  /** Prints the lines still pending, stops redrawing and clears the line. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    // Periodic redraws are cancelled by shutdown; lines already queued are still printed.
    printer.shutdown();
    try {
      printer.awaitTermination(DRAIN_MILLIS, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (inPlace && state != null) {
      err.print(CLEAR_LINE);
      err.flush();
    }
  }
}
