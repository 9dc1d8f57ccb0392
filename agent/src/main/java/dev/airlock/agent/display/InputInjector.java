package dev.airlock.agent.display;

import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import dev.airlock.agent.display.X11.XTest;
import dev.airlock.agent.display.X11.Xlib;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synthetic pointer and keyboard input for one session, through XTest on an X connection of its
 * own. Every call only queues the event: the X calls run in order on the injector's own thread
 * (Xlib is not thread-safe), so callers never wait for the X server.
 *
 * <p>A printable key is typed by its keysym, whatever key the viewer's layout put it on: the
 * keycode the display's keymap has for it (with Shift pressed or let go around the press when the
 * character is on the other level), or, when it has none, a spare keycode mapped to it for the
 * moment, as xdotool does. Other keys go by their DOM code. {@link #releaseAll()} releases what
 * this injector pressed and nothing else.
 */
public final class InputInjector implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InputInjector.class);
  private static final NativeLong NOW = new NativeLong(0);
  private static final int MAX_NOTCHES = 20;
  private static final int SHIFT_L = KeyCodes.keycode("ShiftLeft");
  private static final long MAPPING_SETTLE_NANOS = 30_000_000L;

  private final String displayName;
  private final Runnable injected;
  private final ExecutorService thread;
  // Touched only on the injector's thread.
  private Pointer display;
  private final Map<String, Integer> pressedKeys = new LinkedHashMap<>();
  private final Set<Integer> pressedButtons = new LinkedHashSet<>();
  private final Deque<Integer> spareKeycodes = new ArrayDeque<>();
  private final Map<Long, Integer> remapped = new HashMap<>();
  private boolean failed;

  /** An injector for {@code displayName}; the connection is opened with the first event. */
  public InputInjector(String displayName) {
    this(displayName, () -> {});
  }

  /**
   * An injector for {@code displayName} that runs {@code injected} right after each key, button,
   * wheel or drag event reached the X server (not after a plain pointer move), on its own thread.
   */
  public InputInjector(String displayName, Runnable injected) {
    this.displayName = displayName;
    this.injected = injected;
    this.thread =
        Executors.newSingleThreadExecutor(
            task -> {
              Thread t = new Thread(task, "airlock-input");
              t.setDaemon(true);
              return t;
            });
  }

  /** Moves the pointer to display pixel {@code (x, y)}. */
  public void move(int x, int y) {
    submit(
        () -> {
          XTest.INSTANCE.XTestFakeMotionEvent(display, -1, x, y, NOW);
          flush();
          if (!pressedButtons.isEmpty()) {
            injected.run();
          }
        });
  }

  /** Presses or releases button 1 (left), 2 (middle) or 3 (right). */
  public void button(int button, boolean down) {
    if (button < 1 || button > 3) {
      throw new IllegalArgumentException("button: " + button + " (expected: 1, 2 or 3)");
    }
    submitInput(() -> pressButton(button, down));
  }

  /** Scrolls by notches: {@code dy > 0} down, {@code dx > 0} right (buttons 5, 4, 7, 6). */
  public void wheel(int dx, int dy) {
    submitInput(
        () -> {
          click(dy > 0 ? 5 : 4, Math.min(Math.abs(dy), MAX_NOTCHES));
          click(dx > 0 ? 7 : 6, Math.min(Math.abs(dx), MAX_NOTCHES));
          flush();
        });
  }

  /**
   * Presses or releases a key: {@code code} is the DOM {@code KeyboardEvent.code}, {@code key} the
   * character or key name the viewer's layout produced.
   */
  public void key(String code, String key, boolean down) {
    submitInput(() -> pressKey(code, key, down));
  }

  /** Releases every key and button this injector pressed. */
  public void releaseAll() {
    submit(this::releaseEverything);
  }

  /** Releases what is pressed, closes the connection and ends the thread. */
  @Override
  public void close() {
    try {
      thread.execute(
          () -> {
            if (display != null) {
              releaseEverything();
              Xlib.INSTANCE.XCloseDisplay(display);
              display = null;
            }
          });
    } catch (RejectedExecutionException e) {
      return;
    }
    thread.shutdown();
  }

  /** {@link #submit}, then tells whoever asked ({@code injected}) that input reached X. */
  private void submitInput(Runnable task) {
    submit(
        () -> {
          task.run();
          injected.run();
        });
  }

  private void submit(Runnable task) {
    try {
      thread.execute(
          () -> {
            if (!connected()) {
              return;
            }
            try {
              task.run();
            } catch (RuntimeException e) {
              log.warn("Input not injected: {}", e.toString());
            }
          });
    } catch (RejectedExecutionException e) {
      log.debug("Input after the injector closed: ignored");
    }
  }

  private boolean connected() {
    if (display == null && !failed) {
      try {
        display = X11.open(displayName);
      } catch (IllegalStateException e) {
        failed = true;
        log.error("Input injection off: {}", e.getMessage());
      }
    }
    return display != null;
  }

  private void flush() {
    Xlib.INSTANCE.XFlush(display);
  }

  private void pressButton(int button, boolean down) {
    if (down ? !pressedButtons.add(button) : !pressedButtons.remove(button)) {
      return;
    }
    XTest.INSTANCE.XTestFakeButtonEvent(display, button, down ? 1 : 0, NOW);
    flush();
  }

  private void click(int button, int times) {
    for (int i = 0; i < times; i++) {
      XTest.INSTANCE.XTestFakeButtonEvent(display, button, 1, NOW);
      XTest.INSTANCE.XTestFakeButtonEvent(display, button, 0, NOW);
    }
  }

  private void pressKey(String code, String key, boolean down) {
    String id = code != null && !code.isEmpty() ? code : "key:" + key;
    if (!down) {
      // Released by the keycode it was pressed with: the layout may say another key now.
      Integer keycode = pressedKeys.remove(id);
      if (keycode != null) {
        XTest.INSTANCE.XTestFakeKeyEvent(display, keycode, 0, NOW);
        flush();
      }
      return;
    }
    if (pressedKeys.containsKey(id)) {
      // Auto-repeat: release first so that the X client sees a new press.
      XTest.INSTANCE.XTestFakeKeyEvent(display, pressedKeys.get(id), 0, NOW);
    }
    long keysym = KeyCodes.keysym(key);
    int keycode = keysym == 0 ? KeyCodes.keycode(code) : keycodeFor(keysym);
    if (keycode == 0) {
      log.debug("Key {} / {} has no keycode; ignored", code, key);
      return;
    }
    pressedKeys.put(id, keycode);
    int level = keysym == 0 ? -1 : level(keycode, keysym);
    boolean shifted = shiftHeld();
    // The character is on the keycode's other Shift level than the one held: Shift is pressed
    // (or let go) around the press alone. The press carries the modifier state the application
    // reads the character from; the release does not need it.
    if (level == 1 && !shifted) {
      XTest.INSTANCE.XTestFakeKeyEvent(display, SHIFT_L, 1, NOW);
      XTest.INSTANCE.XTestFakeKeyEvent(display, keycode, 1, NOW);
      XTest.INSTANCE.XTestFakeKeyEvent(display, SHIFT_L, 0, NOW);
    } else if (level == 0 && shifted) {
      List<Integer> held = heldShifts();
      held.forEach(shift -> XTest.INSTANCE.XTestFakeKeyEvent(display, shift, 0, NOW));
      XTest.INSTANCE.XTestFakeKeyEvent(display, keycode, 1, NOW);
      held.forEach(shift -> XTest.INSTANCE.XTestFakeKeyEvent(display, shift, 1, NOW));
    } else {
      XTest.INSTANCE.XTestFakeKeyEvent(display, keycode, 1, NOW);
    }
    flush();
  }

  /** The keycodes of the Shift keys this injector holds down. */
  private List<Integer> heldShifts() {
    return pressedKeys.entrySet().stream()
        .filter(entry -> KeyCodes.isShift(entry.getKey()))
        .map(Map.Entry::getValue)
        .toList();
  }

  /**
   * The keycode that types {@code keysym}: the keymap's own when it has the keysym on level 0 or 1
   * (Shift is added or removed around the press), else a spare keycode mapped to it.
   */
  private int keycodeFor(long keysym) {
    int keycode = Xlib.INSTANCE.XKeysymToKeycode(display, keysym) & 0xff;
    if (keycode != 0) {
      int level = level(keycode, keysym);
      if (level == 0 || level == 1) {
        return keycode;
      }
    }
    int spare = remap(keysym);
    if (spare != 0) {
      // Applications learn of the new mapping from a MappingNotify; a key pressed before they
      // have read it would reach them as the spare's old (empty) symbol.
      Xlib.INSTANCE.XSync(display, 0);
      LockSupport.parkNanos(MAPPING_SETTLE_NANOS);
    }
    return spare;
  }

  private boolean shiftHeld() {
    return pressedKeys.keySet().stream().anyMatch(KeyCodes::isShift);
  }

  /** The level (0 plain, 1 Shift, …) {@code keysym} has on {@code keycode}; -1 if none. */
  private int level(int keycode, long keysym) {
    IntByReference perKeycode = new IntByReference();
    Pointer syms = Xlib.INSTANCE.XGetKeyboardMapping(display, (byte) keycode, 1, perKeycode);
    if (syms == null) {
      return -1;
    }
    try {
      for (int i = 0; i < Math.min(perKeycode.getValue(), 2); i++) {
        if (syms.getLong(8L * i) == keysym) {
          return i;
        }
      }
      return -1;
    } finally {
      Xlib.INSTANCE.XFree(syms);
    }
  }

  /**
   * Maps {@code keysym} on both levels of a spare keycode (one with no keysym), so that Shift does
   * not change it. The mapping stays until the spare is needed again: reverting at once could reach
   * the X client before the key event does.
   */
  private int remap(long keysym) {
    Integer existing = remapped.get(keysym);
    if (existing != null) {
      return existing;
    }
    if (spareKeycodes.isEmpty()) {
      findSpareKeycodes();
    }
    Integer spare = spareKeycodes.pollFirst();
    if (spare == null) {
      log.warn("No spare keycode to type keysym 0x{}", Long.toHexString(keysym));
      return 0;
    }
    remapped.values().remove(spare);
    remapped.put(keysym, spare);
    spareKeycodes.addLast(spare);
    Xlib.INSTANCE.XChangeKeyboardMapping(display, spare, 2, new long[] {keysym, keysym}, 1);
    Xlib.INSTANCE.XSync(display, 0);
    return spare;
  }

  private void findSpareKeycodes() {
    IntByReference min = new IntByReference();
    IntByReference max = new IntByReference();
    Xlib.INSTANCE.XDisplayKeycodes(display, min, max);
    int count = max.getValue() - min.getValue() + 1;
    IntByReference perKeycode = new IntByReference();
    Pointer syms =
        Xlib.INSTANCE.XGetKeyboardMapping(display, (byte) min.getValue(), count, perKeycode);
    if (syms == null) {
      return;
    }
    try {
      int per = perKeycode.getValue();
      // From the top, like xdotool: the high keycodes are the ones no keyboard has.
      for (int i = count - 1; i >= 0 && spareKeycodes.size() < 4; i--) {
        boolean empty = true;
        for (int j = 0; j < per; j++) {
          if (syms.getLong(8L * (i * per + j)) != 0) {
            empty = false;
            break;
          }
        }
        if (empty) {
          spareKeycodes.add(min.getValue() + i);
        }
      }
    } finally {
      Xlib.INSTANCE.XFree(syms);
    }
  }

  private void releaseEverything() {
    for (int keycode : pressedKeys.values()) {
      XTest.INSTANCE.XTestFakeKeyEvent(display, keycode, 0, NOW);
    }
    pressedKeys.clear();
    for (int button : pressedButtons) {
      XTest.INSTANCE.XTestFakeButtonEvent(display, button, 0, NOW);
    }
    pressedButtons.clear();
    flush();
  }
}
