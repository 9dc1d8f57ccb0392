package dev.airlock.agent.display;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import dev.airlock.agent.display.X11.XFixes;
import dev.airlock.agent.display.X11.Xlib;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The CLIPBOARD selection of one X display, as text of at most {@link #MAX_BYTES} bytes (UTF-8).
 *
 * <p>Reads and writes run {@code xclip} on a thread of their own ({@code xclip -i} stays in the
 * background to serve the selection until another client takes it). Changes are seen through XFixes
 * selection-owner events on another thread of its own, which exists only while {@link #changes()}
 * has subscribers: XFixes, rather than polling {@code xclip -o}, because it costs nothing while
 * nobody copies and sees every copy, even of the same text; the thread polls its X connection every
 * {@value #POLL_MILLIS} ms instead of blocking in {@code XNextEvent}, so that it can stop without
 * closing a connection under a blocked call.
 */
public final class Clipboard {

  private static final Logger log = LoggerFactory.getLogger(Clipboard.class);

  /** The largest text transferred either way. */
  public static final int MAX_BYTES = 1 << 20;

  static final long POLL_MILLIS = 100;
  private static final long XCLIP_TIMEOUT_SECONDS = 3;
  private static final int XFIXES_SELECTION_NOTIFY = 0;

  /** A new clipboard text; {@code origin} is the writer when it came from {@link #write}. */
  public record Change(String text, Object origin) {}

  /** The text is larger than {@link #MAX_BYTES}. */
  public static final class TooLargeException extends RuntimeException {
    TooLargeException(long bytes) {
      super("clipboard text of " + bytes + " bytes (expected: at most " + MAX_BYTES + ")");
    }
  }

  private final String display;
  private final Scheduler io;
  private final Flux<Change> changes;
  private volatile Change lastWrite;

  /** The clipboard of {@code display}; nothing runs until used. */
  public Clipboard(String display) {
    this.display = display;
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread t = new Thread(task, "airlock-clipboard-io");
              t.setDaemon(true);
              return t;
            });
    this.io = Schedulers.fromExecutorService(executor, "airlock-clipboard-io");
    this.changes = Flux.<Change>create(this::watch).publish().refCount();
  }

  /** The current text; empty when the clipboard holds no text. */
  public Mono<String> read() {
    return Mono.fromCallable(this::readNow).subscribeOn(io);
  }

  /**
   * Sets the clipboard to {@code text} on behalf of {@code origin} (the change it causes is
   * reported with that origin).
   *
   * @throws TooLargeException (as the error) when the text is too large
   */
  public Mono<Void> write(String text, Object origin) {
    return Mono.<Void>fromRunnable(() -> writeNow(text, origin)).subscribeOn(io);
  }

  /**
   * Every new clipboard text, as it is copied; shared by all subscribers, watching only while there
   * are some. A text too large is reported as a {@link Change} with a null text.
   */
  public Flux<Change> changes() {
    return changes;
  }

  private ProcessBuilder xclip(String... args) {
    String[] command = new String[args.length + 3];
    command[0] = "xclip";
    command[1] = "-selection";
    command[2] = "clipboard";
    System.arraycopy(args, 0, command, 3, args.length);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("DISPLAY", display);
    return builder;
  }

  private String readNow() throws IOException, InterruptedException {
    Process process =
        xclip("-o", "-t", "UTF8_STRING").redirectError(ProcessBuilder.Redirect.DISCARD).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = process.getInputStream()) {
      byte[] chunk = new byte[8192];
      int n;
      while ((n = in.read(chunk)) > 0) {
        out.write(chunk, 0, n);
        if (out.size() > MAX_BYTES) {
          process.destroyForcibly();
          throw new TooLargeException(out.size());
        }
      }
    }
    if (!process.waitFor(XCLIP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return "";
    }
    // xclip fails when the owner offers no text (an image, or nothing): no text to report.
    return process.exitValue() == 0 ? out.toString(StandardCharsets.UTF_8) : "";
  }

  private void writeNow(String text, Object origin) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    if (bytes.length > MAX_BYTES) {
      throw new TooLargeException(bytes.length);
    }
    lastWrite = new Change(text, origin);
    try {
      // xclip forks a child that owns the selection; output discarded so it keeps no pipe of ours.
      Process process =
          xclip("-i")
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      try (OutputStream in = process.getOutputStream()) {
        in.write(bytes);
      }
      if (!process.waitFor(XCLIP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("xclip -i did not finish");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException("xclip -i exited with " + process.exitValue());
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run xclip (expected: xclip installed): " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private void watch(FluxSink<Change> sink) {
    Thread watcher = new Thread(() -> watchLoop(sink), "airlock-clipboard-watch");
    watcher.setDaemon(true);
    sink.onDispose(watcher::interrupt);
    watcher.start();
  }

  private void watchLoop(FluxSink<Change> sink) {
    Pointer x;
    try {
      x = X11.open(display);
    } catch (IllegalStateException e) {
      log.error("Clipboard changes not watched: {}", e.getMessage());
      return;
    }
    try {
      IntByReference eventBase = new IntByReference();
      if (XFixes.INSTANCE.XFixesQueryExtension(x, eventBase, new IntByReference()) == 0) {
        log.error("Clipboard changes not watched: display {} has no XFixes extension", display);
        return;
      }
      long clipboard = Xlib.INSTANCE.XInternAtom(x, "CLIPBOARD", 0);
      XFixes.INSTANCE.XFixesSelectSelectionInput(
          x,
          Xlib.INSTANCE.XDefaultRootWindow(x),
          clipboard,
          new NativeLong(XFixes.SET_SELECTION_OWNER_NOTIFY_MASK));
      Xlib.INSTANCE.XFlush(x);
      // XEvent is a union of 24 longs.
      Memory event = new Memory(192);
      int notify = eventBase.getValue() + XFIXES_SELECTION_NOTIFY;
      while (!Thread.currentThread().isInterrupted() && !sink.isCancelled()) {
        boolean changed = false;
        while (Xlib.INSTANCE.XPending(x) > 0) {
          Xlib.INSTANCE.XNextEvent(x, event);
          changed |= event.getInt(0) == notify;
        }
        if (changed) {
          emitCurrent(sink);
        }
        Thread.sleep(POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      Xlib.INSTANCE.XCloseDisplay(x);
    }
  }

  private void emitCurrent(FluxSink<Change> sink) {
    String text;
    try {
      text = readNow();
    } catch (TooLargeException e) {
      sink.next(new Change(null, null));
      return;
    } catch (IOException e) {
      log.warn("Cannot read the clipboard: {}", e.toString());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    if (text.isEmpty()) {
      return;
    }
    Change written = lastWrite;
    Object origin =
        written != null && Objects.equals(written.text(), text) ? written.origin() : null;
    sink.next(new Change(text, origin));
  }
}
