package dev.airlock.agent.display;

import java.util.HashMap;
import java.util.Map;

/**
 * DOM {@code KeyboardEvent.code} values (the physical key) to X keycodes of an evdev keymap (the
 * Linux input event code + 8), which Xvfb and Xorg use by default.
 */
final class KeyCodes {

  private static final Map<String, Integer> EVDEV = new HashMap<>();

  static {
    put("Escape", 1);
    String digits = "1234567890";
    for (int i = 0; i < digits.length(); i++) {
      put("Digit" + digits.charAt(i), 2 + i);
    }
    put("Minus", 12);
    put("Equal", 13);
    put("Backspace", 14);
    put("Tab", 15);
    row("QWERTYUIOP", 16);
    put("BracketLeft", 26);
    put("BracketRight", 27);
    put("Enter", 28);
    put("ControlLeft", 29);
    row("ASDFGHJKL", 30);
    put("Semicolon", 39);
    put("Quote", 40);
    put("Backquote", 41);
    put("ShiftLeft", 42);
    put("Backslash", 43);
    row("ZXCVBNM", 44);
    put("Comma", 51);
    put("Period", 52);
    put("Slash", 53);
    put("ShiftRight", 54);
    put("NumpadMultiply", 55);
    put("AltLeft", 56);
    put("Space", 57);
    put("CapsLock", 58);
    for (int i = 1; i <= 10; i++) {
      put("F" + i, 58 + i);
    }
    put("NumLock", 69);
    put("ScrollLock", 70);
    put("Numpad7", 71);
    put("Numpad8", 72);
    put("Numpad9", 73);
    put("NumpadSubtract", 74);
    put("Numpad4", 75);
    put("Numpad5", 76);
    put("Numpad6", 77);
    put("NumpadAdd", 78);
    put("Numpad1", 79);
    put("Numpad2", 80);
    put("Numpad3", 81);
    put("Numpad0", 82);
    put("NumpadDecimal", 83);
    put("IntlBackslash", 86);
    put("F11", 87);
    put("F12", 88);
    put("IntlRo", 89);
    put("NumpadEnter", 96);
    put("ControlRight", 97);
    put("NumpadDivide", 98);
    put("PrintScreen", 99);
    put("AltRight", 100);
    put("Home", 102);
    put("ArrowUp", 103);
    put("PageUp", 104);
    put("ArrowLeft", 105);
    put("ArrowRight", 106);
    put("End", 107);
    put("ArrowDown", 108);
    put("PageDown", 109);
    put("Insert", 110);
    put("Delete", 111);
    put("NumpadEqual", 117);
    put("Pause", 119);
    put("IntlYen", 124);
    put("MetaLeft", 125);
    put("MetaRight", 126);
    put("ContextMenu", 127);
  }

  private KeyCodes() {}

  private static void put(String code, int evdev) {
    EVDEV.put(code, evdev + 8);
  }

  private static void row(String letters, int first) {
    for (int i = 0; i < letters.length(); i++) {
      put("Key" + letters.charAt(i), first + i);
    }
  }

  /** The X keycode of a DOM code, or 0 when the key is not known. */
  static int keycode(String code) {
    return code == null ? 0 : EVDEV.getOrDefault(code, 0);
  }

  /** Whether the DOM code is a Shift key (which decides the level a keysym is typed at). */
  static boolean isShift(String code) {
    return "ShiftLeft".equals(code) || "ShiftRight".equals(code);
  }

  /**
   * The keysym that types {@code key}, when it is one printable character; 0 otherwise (a key name
   * such as {@code Enter}, or a dead key).
   */
  static long keysym(String key) {
    if (key == null || key.isEmpty() || key.codePointCount(0, key.length()) != 1) {
      return 0;
    }
    int c = key.codePointAt(0);
    if (Character.isISOControl(c) || c == ' ') {
      return c == ' ' ? 0x20 : 0;
    }
    // Latin-1 characters are their own keysyms; every other character has the Unicode keysym.
    if ((c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff)) {
      return c;
    }
    return 0x01000000L | c;
  }
}
