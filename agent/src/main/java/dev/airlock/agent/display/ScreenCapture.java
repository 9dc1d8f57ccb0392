package dev.airlock.agent.display;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import dev.airlock.agent.display.X11.LibC;
import dev.airlock.agent.display.X11.XDamage;
import dev.airlock.agent.display.X11.XShm;
import dev.airlock.agent.display.X11.Xlib;
import dev.airlock.peer.WebRtcRuntime;
import dev.onvoid.webrtc.media.FourCC;
import dev.onvoid.webrtc.media.video.CustomVideoSource;
import dev.onvoid.webrtc.media.video.NativeI420Buffer;
import dev.onvoid.webrtc.media.video.VideoBufferConverter;
import dev.onvoid.webrtc.media.video.VideoFrame;
import dev.onvoid.webrtc.media.video.VideoTrackSource;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The screen of one X display as a video source shared by every session's track: one per agent
 * process.
 *
 * <p>While at least one lease is held ({@link #start()}), a thread of its own grabs the root window
 * (MIT-SHM when the server offers it, {@code XGetImage} otherwise), converts it from ARGB to I420
 * with libyuv and pushes it into {@link #source()}. It grabs when the screen changed, as the X
 * server's DAMAGE extension reports, at most at the configured frame rate; and for {@value
 * #BOOST_MILLIS} ms after injected input ({@link #inputInjected()}) at up to {@value #BOOST_FPS}
 * fps, so that what a key or a click changes is sent as soon as it is drawn rather than at the next
 * tick. A still screen costs a grab every {@value #REFRESH_MILLIS} ms. A frame that is late is not
 * made up for, so nothing queues. When the root window's size changes, the next frames have the new
 * size and {@link #sizes()} emits it. The thread and its X connection end when the last lease is
 * released.
 *
 * <p>libwebrtc's own X11 capturer ({@code ScreenCapturer}) is not used: in webrtc-java 0.14 it
 * crashes the JVM on Linux (an ABI mismatch of {@code DesktopCaptureOptions}, fixed after 0.14 in
 * devopvoid/webrtc-java#236).
 */
public final class ScreenCapture {

  private static final Logger log = LoggerFactory.getLogger(ScreenCapture.class);

  /**
   * The frame rate right after input, while the screen shows its answer: above an application's 60
   * Hz, so each of its paints is grabbed as soon as it lands instead of every other one.
   */
  static final int BOOST_FPS = 75;

  /** How long after input the boosted rate lasts. */
  static final long BOOST_MILLIS = 500;

  /** A still screen is grabbed again this often, for a new viewer and the encoder's refinement. */
  static final long REFRESH_MILLIS = 200;

  private static final long STOP_CHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** A display size in pixels. */
  public record Size(int width, int height) {}

  private final String display;
  private final int fps;
  private final CustomVideoSource source;
  private final Sinks.Many<Size> sizes = Sinks.many().replay().latest();
  private int leases;
  private volatile Thread thread;
  private volatile boolean running;
  private volatile Size size;
  private volatile long boostUntil = System.nanoTime();

  /**
   * A capture of {@code display} at {@code fps} frames per second; nothing runs until {@link
   * #start()}.
   */
  public ScreenCapture(String display, int fps) {
    if (fps < 1 || fps > 60) {
      throw new IllegalArgumentException("fps: " + fps + " (expected: 1..60)");
    }
    this.display = display;
    this.fps = fps;
    WebRtcRuntime.loadNativeLibrary();
    this.source = new CustomVideoSource();
  }

  /** The source the screen tracks are made of; stays the same for the life of the process. */
  public VideoTrackSource source() {
    return source;
  }

  /** The last size grabbed, or null before the first frame. */
  public Size size() {
    return size;
  }

  /** The size of every frame that differs from the one before, from the first frame on. */
  public Flux<Size> sizes() {
    return sizes.asFlux().distinctUntilChanged();
  }

  /**
   * Takes a lease on the capture, starting it if it is the first; the returned runnable releases
   * the lease (once; later calls do nothing), stopping the capture after the last one.
   */
  public synchronized Runnable start() {
    leases++;
    if (leases == 1) {
      running = true;
      Thread capture = new Thread(this::run, "airlock-screen-capture");
      capture.setDaemon(true);
      thread = capture;
      capture.start();
      log.info("Screen capture of {} started at {} fps", display, fps);
    }
    boolean[] released = {false};
    return () -> {
      synchronized (ScreenCapture.this) {
        if (released[0]) {
          return;
        }
        released[0] = true;
        leases--;
        if (leases == 0) {
          running = false;
          thread = null;
          log.info("Screen capture of {} stopped", display);
        }
      }
    };
  }

  /** Whether the capture thread is meant to run (at least one lease is held). */
  public synchronized boolean isRunning() {
    return leases > 0;
  }

  /**
   * Tells the capture that input was just injected: for the next {@value #BOOST_MILLIS} ms the
   * screen's changes are grabbed at up to {@value #BOOST_FPS} frames per second, so that the answer
   * to a key or a click reaches the viewer with the least delay.
   */
  public void inputInjected() {
    boostUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(BOOST_MILLIS);
    Thread capture = thread;
    if (capture != null) {
      LockSupport.unpark(capture);
    }
  }

  private void run() {
    Thread self = Thread.currentThread();
    Pointer x;
    try {
      x = X11.open(display);
    } catch (IllegalStateException e) {
      log.error("Screen capture: {}", e.getMessage());
      return;
    }
    Grab grab = null;
    Damage damage = Damage.open(x);
    try {
      long interval = TimeUnit.SECONDS.toNanos(1) / fps;
      long boostInterval = Math.min(interval, TimeUnit.SECONDS.toNanos(1) / BOOST_FPS);
      long refresh = TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS);
      long last = System.nanoTime() - refresh;
      while (running && thread == self) {
        boolean changed = damage.changed();
        long now = System.nanoTime();
        if (!changed && now - last < refresh) {
          // Nothing new on the screen: sleep until it changes or the refresh is due.
          damage.await(Math.min(refresh - (now - last), STOP_CHECK_NANOS));
          continue;
        }
        long due = last + (now < boostUntil ? boostInterval : interval);
        if (now < due) {
          LockSupport.parkNanos(due - now);
          continue;
        }
        damage.reset();
        last = now;
        int[] root = X11.rootSize(x);
        if (grab == null || grab.width != root[0] || grab.height != root[1]) {
          if (grab != null) {
            grab.close();
          }
          grab = Grab.open(x, root[0], root[1]);
          Size size = new Size(root[0], root[1]);
          this.size = size;
          sizes.tryEmitNext(size);
        }
        ByteBuffer pixels = grab.next();
        if (pixels != null) {
          push(pixels, grab.width, grab.height);
        }
      }
    } catch (RuntimeException e) {
      log.error("Screen capture of {} failed: {}", display, e.toString());
    } finally {
      if (grab != null) {
        grab.close();
      }
      damage.close();
      Xlib.INSTANCE.XCloseDisplay(x);
    }
  }

  private void push(ByteBuffer argb, int width, int height) {
    NativeI420Buffer buffer = NativeI420Buffer.allocate(width, height);
    VideoFrame frame = new VideoFrame(buffer, System.nanoTime());
    try {
      VideoBufferConverter.convertToI420(argb, buffer, FourCC.ARGB);
      source.pushFrame(frame);
    } catch (Exception e) {
      log.debug("Frame of {}x{} dropped: {}", width, height, e.toString());
    } finally {
      frame.release();
    }
  }

  /**
   * Whether the root window changed since the last grab, from the DAMAGE extension; a server
   * without it (or without libXdamage) is taken to change all the time, so the screen is grabbed at
   * the full frame rate.
   */
  private static class Damage {
    final Pointer display;

    Damage(Pointer display) {
      this.display = display;
    }

    static Damage open(Pointer display) {
      try {
        IntByReference eventBase = new IntByReference();
        if (XDamage.INSTANCE.XDamageQueryExtension(display, eventBase, new IntByReference()) != 0) {
          return new Reported(display, eventBase.getValue() + XDamage.NOTIFY);
        }
        log.info("The X server has no DAMAGE extension: the screen is grabbed at every frame");
      } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
        log.info("No libXdamage ({}): the screen is grabbed at every frame", e.getMessage());
      }
      return new Damage(display);
    }

    /** Whether the screen changed since the last {@link #reset()}. */
    boolean changed() {
      return true;
    }

    /** Waits up to {@code nanos} for a change. */
    void await(long nanos) {
      LockSupport.parkNanos(nanos);
    }

    /** Marks the screen as grabbed: changes from now on count. */
    void reset() {}

    void close() {}
  }

  private static final class Reported extends Damage {
    private final int notifyType;
    private final long damage;
    private final Memory event = new Memory(192); // XEvent: a union of 24 longs
    private final Memory pollFd = new Memory(8);
    private boolean changed = true;

    Reported(Pointer display, int notifyType) {
      super(display);
      this.notifyType = notifyType;
      this.damage =
          XDamage.INSTANCE.XDamageCreate(
              display, Xlib.INSTANCE.XDefaultRootWindow(display), XDamage.REPORT_NON_EMPTY);
      pollFd.setInt(0, Xlib.INSTANCE.XConnectionNumber(display));
      pollFd.setShort(4, LibC.POLLIN);
    }

    @Override
    boolean changed() {
      while (Xlib.INSTANCE.XPending(display) > 0) {
        Xlib.INSTANCE.XNextEvent(display, event);
        if (event.getInt(0) == notifyType) {
          changed = true;
        }
      }
      return changed;
    }

    @Override
    void await(long nanos) {
      pollFd.setShort(6, (short) 0);
      LibC.INSTANCE.poll(pollFd, new NativeLong(1), (int) Math.max(1, nanos / 1_000_000));
    }

    @Override
    void reset() {
      // Before the grab, so that what is drawn during it is reported again.
      XDamage.INSTANCE.XDamageSubtract(display, damage, 0, 0);
      changed = false;
    }

    @Override
    void close() {
      XDamage.INSTANCE.XDamageDestroy(display, damage);
    }
  }

  /** One way of grabbing the root window at a fixed size, with its buffers. */
  private abstract static class Grab {
    final Pointer display;
    final long root;
    final int width;
    final int height;

    Grab(Pointer display, int width, int height) {
      this.display = display;
      this.root = Xlib.INSTANCE.XDefaultRootWindow(display);
      this.width = width;
      this.height = height;
    }

    static Grab open(Pointer display, int width, int height) {
      int screen = Xlib.INSTANCE.XDefaultScreen(display);
      if (Xlib.INSTANCE.XDefaultDepth(display, screen) < 24) {
        throw new IllegalStateException(
            "display depth "
                + Xlib.INSTANCE.XDefaultDepth(display, screen)
                + " (expected: 24 or 32 bits, e.g. Xvfb -screen 0 1920x1080x24)");
      }
      if (XShm.INSTANCE.XShmQueryExtension(display) != 0) {
        try {
          return new SharedMemoryGrab(display, width, height);
        } catch (IllegalStateException e) {
          log.warn("MIT-SHM unusable ({}); grabbing the screen through the socket", e.getMessage());
        }
      }
      return new SocketGrab(display, width, height);
    }

    /** The pixels of the next frame (ARGB, no row padding), valid until the next call; or null. */
    abstract ByteBuffer next();

    abstract void close();
  }

  /** MIT-SHM: the server writes the pixels straight into memory shared with this process. */
  private static final class SharedMemoryGrab extends Grab {
    private final Memory segment = new Memory(32);
    private final Pointer image;
    private final Pointer address;
    private final ByteBuffer pixels;

    SharedMemoryGrab(Pointer display, int width, int height) {
      super(display, width, height);
      int screen = Xlib.INSTANCE.XDefaultScreen(display);
      segment.clear();
      image =
          XShm.INSTANCE.XShmCreateImage(
              display,
              Xlib.INSTANCE.XDefaultVisual(display, screen),
              Xlib.INSTANCE.XDefaultDepth(display, screen),
              X11.Z_PIXMAP,
              null,
              segment,
              width,
              height);
      if (image == null) {
        throw new IllegalStateException("XShmCreateImage failed");
      }
      int stride = image.getInt(X11.IMAGE_BYTES_PER_LINE);
      int bits = image.getInt(X11.IMAGE_BITS_PER_PIXEL);
      if (bits != 32 || stride != width * 4) {
        Xlib.INSTANCE.XDestroyImage(image);
        throw new IllegalStateException(bits + " bits per pixel, " + stride + " bytes per line");
      }
      long bytes = (long) stride * height;
      // XShmSegmentInfo: shmseg (XID) at 0, shmid at 8, shmaddr at 16, readOnly at 24.
      int id = LibC.INSTANCE.shmget(LibC.IPC_PRIVATE, new NativeLong(bytes), LibC.IPC_CREAT | 0600);
      if (id < 0) {
        Xlib.INSTANCE.XDestroyImage(image);
        throw new IllegalStateException("shmget of " + bytes + " bytes failed");
      }
      address = LibC.INSTANCE.shmat(id, null, 0);
      segment.setInt(8, id);
      segment.setPointer(16, address);
      segment.setInt(24, 0);
      image.setPointer(X11.IMAGE_DATA, address);
      int attached = XShm.INSTANCE.XShmAttach(display, segment);
      Xlib.INSTANCE.XSync(display, 0);
      // Marked for removal now: the kernel frees it when both sides have detached, even if this
      // process dies.
      LibC.INSTANCE.shmctl(id, LibC.IPC_RMID, null);
      if (attached == 0) {
        LibC.INSTANCE.shmdt(address);
        image.setPointer(X11.IMAGE_DATA, null);
        Xlib.INSTANCE.XDestroyImage(image);
        throw new IllegalStateException("XShmAttach failed (a remote X server?)");
      }
      pixels = address.getByteBuffer(0, bytes);
    }

    @Override
    ByteBuffer next() {
      if (XShm.INSTANCE.XShmGetImage(display, root, image, 0, 0, X11.ALL_PLANES) == 0) {
        return null;
      }
      return pixels.duplicate();
    }

    @Override
    void close() {
      XShm.INSTANCE.XShmDetach(display, segment);
      Xlib.INSTANCE.XSync(display, 0);
      LibC.INSTANCE.shmdt(address);
      image.setPointer(X11.IMAGE_DATA, null);
      Xlib.INSTANCE.XDestroyImage(image);
    }
  }

  /** {@code XGetImage}: the pixels come through the X connection, a copy per frame. */
  private static final class SocketGrab extends Grab {
    private Pointer image;

    SocketGrab(Pointer display, int width, int height) {
      super(display, width, height);
    }

    @Override
    ByteBuffer next() {
      release();
      image =
          Xlib.INSTANCE.XGetImage(display, root, 0, 0, width, height, X11.ALL_PLANES, X11.Z_PIXMAP);
      if (image == null
          || image.getInt(X11.IMAGE_BITS_PER_PIXEL) != 32
          || image.getInt(X11.IMAGE_BYTES_PER_LINE) != width * 4) {
        return null;
      }
      return image.getPointer(X11.IMAGE_DATA).getByteBuffer(0, (long) width * height * 4);
    }

    private void release() {
      if (image != null) {
        Xlib.INSTANCE.XDestroyImage(image);
        image = null;
      }
    }

    @Override
    void close() {
      release();
    }
  }
}
