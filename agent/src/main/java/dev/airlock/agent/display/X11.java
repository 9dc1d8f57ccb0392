package dev.airlock.agent.display;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The few Xlib, MIT-SHM, XTest and XFixes calls the agent needs, bound with JNA. A {@code Display*}
 * is a {@link Pointer}, an XID (window, atom) a {@code long}. Xlib is not thread-safe: each user
 * opens its own connection and makes every call on one thread of its own.
 */
final class X11 {

  private static final Logger log = LoggerFactory.getLogger(X11.class);

  /** {@code ZPixmap}: pixels as whole words, what the screen grab wants. */
  static final int Z_PIXMAP = 2;

  /** {@code AllPlanes}. */
  static final NativeLong ALL_PLANES = new NativeLong(-1L);

  /** libX11. */
  interface Xlib extends Library {
    Xlib INSTANCE = Native.load("X11", Xlib.class);

    Pointer XOpenDisplay(String name);

    int XCloseDisplay(Pointer display);

    long XDefaultRootWindow(Pointer display);

    int XDefaultScreen(Pointer display);

    Pointer XDefaultVisual(Pointer display, int screen);

    int XDefaultDepth(Pointer display, int screen);

    int XGetGeometry(
        Pointer display,
        long drawable,
        LongByReference root,
        IntByReference x,
        IntByReference y,
        IntByReference width,
        IntByReference height,
        IntByReference border,
        IntByReference depth);

    Pointer XGetImage(
        Pointer display,
        long drawable,
        int x,
        int y,
        int width,
        int height,
        NativeLong planeMask,
        int format);

    int XDestroyImage(Pointer image);

    int XFlush(Pointer display);

    int XSync(Pointer display, int discard);

    int XPending(Pointer display);

    int XConnectionNumber(Pointer display);

    int XNextEvent(Pointer display, Pointer event);

    long XInternAtom(Pointer display, String name, int onlyIfExists);

    byte XKeysymToKeycode(Pointer display, long keysym);

    Pointer XGetKeyboardMapping(
        Pointer display, byte firstKeycode, int count, IntByReference keysymsPerKeycode);

    int XChangeKeyboardMapping(
        Pointer display, int firstKeycode, int keysymsPerKeycode, long[] keysyms, int count);

    int XDisplayKeycodes(Pointer display, IntByReference min, IntByReference max);

    int XFree(Pointer data);

    Pointer XSetErrorHandler(ErrorHandler handler);
  }

  /** Xlib's error callback; the default one ends the process, this one only logs. */
  interface ErrorHandler extends Callback {
    int invoke(Pointer display, Pointer errorEvent);
  }

  /** libXext's MIT-SHM: the screen grab without copying through the socket. */
  interface XShm extends Library {
    XShm INSTANCE = Native.load("Xext", XShm.class);

    int XShmQueryExtension(Pointer display);

    Pointer XShmCreateImage(
        Pointer display,
        Pointer visual,
        int depth,
        int format,
        Pointer data,
        Pointer segmentInfo,
        int width,
        int height);

    int XShmAttach(Pointer display, Pointer segmentInfo);

    int XShmDetach(Pointer display, Pointer segmentInfo);

    int XShmGetImage(
        Pointer display, long drawable, Pointer image, int x, int y, NativeLong planeMask);
  }

  /** libXtst: synthetic input. */
  interface XTest extends Library {
    XTest INSTANCE = Native.load("Xtst", XTest.class);

    int XTestFakeKeyEvent(Pointer display, int keycode, int isPress, NativeLong delay);

    int XTestFakeButtonEvent(Pointer display, int button, int isPress, NativeLong delay);

    int XTestFakeMotionEvent(Pointer display, int screen, int x, int y, NativeLong delay);
  }

  /** libXfixes: selection owner change events. */
  interface XFixes extends Library {
    XFixes INSTANCE = Native.load("Xfixes", XFixes.class);

    /** {@code XFixesSetSelectionOwnerNotifyMask}. */
    long SET_SELECTION_OWNER_NOTIFY_MASK = 1;

    int XFixesQueryExtension(Pointer display, IntByReference eventBase, IntByReference errorBase);

    void XFixesSelectSelectionInput(
        Pointer display, long window, long selection, NativeLong eventMask);
  }

  /** The System V shared memory calls of libc, for MIT-SHM. */
  /**
   * The DAMAGE extension: reports that a drawable's contents changed, so the screen is grabbed only
   * when there is something new.
   */
  interface XDamage extends Library {
    XDamage INSTANCE = Native.load("Xdamage", XDamage.class);

    /** XDamageReportNonEmpty: one event when the damage goes from empty to not empty. */
    int REPORT_NON_EMPTY = 3;

    /** XDamageNotify, added to the extension's event base. */
    int NOTIFY = 0;

    int XDamageQueryExtension(Pointer display, IntByReference eventBase, IntByReference errorBase);

    long XDamageCreate(Pointer display, long drawable, int level);

    void XDamageDestroy(Pointer display, long damage);

    void XDamageSubtract(Pointer display, long damage, long repair, long parts);
  }

  interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int IPC_PRIVATE = 0;
    int IPC_CREAT = 01000;
    int IPC_RMID = 0;

    int shmget(int key, NativeLong size, int flags);

    Pointer shmat(int id, Pointer address, int flags);

    int shmdt(Pointer address);

    int shmctl(int id, int command, Pointer buffer);

    /** {@code struct pollfd}: int fd, short events, short revents. */
    short POLLIN = 1;

    int poll(Pointer fds, NativeLong count, int timeoutMillis);
  }

  // XImage field offsets on x86-64 (Xlib.h): width, height, xoffset, format, data, byte_order,
  // bitmap_unit, bitmap_bit_order, bitmap_pad, depth, bytes_per_line, bits_per_pixel.
  static final long IMAGE_DATA = 16;
  static final long IMAGE_BYTES_PER_LINE = 44;
  static final long IMAGE_BITS_PER_PIXEL = 48;

  // XErrorEvent: type, display*, resourceid, serial, error_code (unsigned char), request_code.
  private static final long ERROR_CODE = 32;
  private static final long ERROR_REQUEST = 33;

  private static final ErrorHandler LOGGING_HANDLER =
      (display, event) -> {
        log.debug(
            "X error {} on request {}",
            event.getByte(ERROR_CODE) & 0xff,
            event.getByte(ERROR_REQUEST) & 0xff);
        return 0;
      };

  private static boolean handlerInstalled;

  private X11() {}

  /**
   * Opens a connection to {@code name} (e.g. {@code :0}); Xlib's fatal default error handler is
   * replaced once per process by one that logs, so that a failed request (a grab racing a resize)
   * does not end the agent.
   *
   * @throws IllegalStateException when the display cannot be opened
   */
  static Pointer open(String name) {
    synchronized (X11.class) {
      if (!handlerInstalled) {
        Xlib.INSTANCE.XSetErrorHandler(LOGGING_HANDLER);
        handlerInstalled = true;
      }
    }
    Pointer display = Xlib.INSTANCE.XOpenDisplay(name);
    if (display == null) {
      throw new IllegalStateException(
          "cannot open X display "
              + name
              + " (expected: a running X server such as Xvfb that this user may connect to)");
    }
    return display;
  }

  /** The root window's current size, as {@code {width, height}} (follows RandR changes). */
  static int[] rootSize(Pointer display) {
    IntByReference width = new IntByReference();
    IntByReference height = new IntByReference();
    Xlib.INSTANCE.XGetGeometry(
        display,
        Xlib.INSTANCE.XDefaultRootWindow(display),
        new LongByReference(),
        new IntByReference(),
        new IntByReference(),
        width,
        height,
        new IntByReference(),
        new IntByReference());
    return new int[] {width.getValue(), height.getValue()};
  }
}
