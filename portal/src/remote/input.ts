/**
 * The viewer's side of `docs/remote-view.md`: the messages of the `control`, `input` and
 * `clipboard` channels, and the pure rules that turn DOM events into them.
 */

export type Mode = 'control' | 'view';
export type ClipboardPolicy = 'none' | 'read' | 'write' | 'both';

/** Agent → viewer on `control`. */
export type ControlMessage =
  | { type: 'hello'; mode: Mode; width: number; height: number; clipboard: ClipboardPolicy; idleSeconds: number; resizable?: boolean }
  | { type: 'screen'; width: number; height: number }
  | { type: 'waiting-consent'; timeoutSeconds: number }
  | { type: 'consent-request'; requestId: string; username: string; mode: Mode }
  | { type: 'consent-granted' }
  | { type: 'idle-warning'; secondsLeft: number }
  | { type: 'bye'; reason: string };

/** Viewer → agent on `input`. */
export type InputMessage =
  | { type: 'move'; x: number; y: number }
  | { type: 'button'; button: 1 | 2 | 3; down: boolean; x: number; y: number }
  | { type: 'wheel'; dx: number; dy: number }
  | { type: 'key'; code: string; key: string; down: boolean }
  | { type: 'release-all' }
  | { type: 'resize'; width: number; height: number };

/** Both ways on `clipboard`. */
export type ClipboardMessage = { type: 'text'; text: string } | { type: 'refused'; reason: string };

/** The largest clipboard text the agent takes. */
export const MAX_CLIPBOARD_BYTES = 1024 * 1024;

/** The protocol's button for a DOM `MouseEvent.button` (0 left, 1 middle, 2 right); undefined for others. */
export function protocolButton(domButton: number): 1 | 2 | 3 | undefined {
  switch (domButton) {
    case 0:
      return 1;
    case 1:
      return 2;
    case 2:
      return 3;
    default:
      return undefined;
  }
}

/** Whether the clipboard may flow from the remote side to the viewer under `policy`. */
export function canRead(policy: ClipboardPolicy | undefined): boolean {
  return policy === 'read' || policy === 'both';
}

/** Whether the viewer may set the remote clipboard under `policy` in `mode`. */
export function canWrite(policy: ClipboardPolicy | undefined, mode: Mode | undefined): boolean {
  return mode === 'control' && (policy === 'write' || policy === 'both');
}

/**
 * Turns wheel deltas into notches: pixels (deltaMode 0) count 100 to a notch (Chromium's and
 * Firefox's step), lines (1) 3, pages (2) 1; the remainder is kept for the next event, so a
 * touchpad's small deltas add up instead of being lost.
 */
export class WheelAccumulator {
  private x = 0;
  private y = 0;

  add(deltaX: number, deltaY: number, deltaMode: number): { dx: number; dy: number } | undefined {
    const per = deltaMode === 1 ? 3 : deltaMode === 2 ? 1 : 100;
    this.x += deltaX / per;
    this.y += deltaY / per;
    // `+ 0` turns a -0 into 0.
    const dx = Math.trunc(this.x) + 0;
    const dy = Math.trunc(this.y) + 0;
    this.x -= dx;
    this.y -= dy;
    return dx === 0 && dy === 0 ? undefined : { dx, dy };
  }
}

/** The keys held down, so that losing focus can release exactly them (and say so once). */
export class PressedKeys {
  private readonly keys = new Set<string>();

  /**
   * Records a key event; false when it need not be sent: a press of a key already down (the
   * browser's auto-repeat: the remote display repeats a held key itself) or a release of a key
   * that was never pressed here (e.g. pressed before the view had focus).
   */
  track(code: string, down: boolean): boolean {
    if (down) {
      if (this.keys.has(code)) {
        return false;
      }
      this.keys.add(code);
      return true;
    }
    return this.keys.delete(code);
  }

  get size(): number {
    return this.keys.size;
  }

  clear(): void {
    this.keys.clear();
  }
}

/** Parses a channel message (UTF-8 JSON with a string `type`); undefined for anything else. */
export function parseMessage<T extends { type: string }>(bytes: Uint8Array): T | undefined {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string') {
      return value as T;
    }
  } catch {
    // Not JSON: ignored.
  }
  return undefined;
}

/** The delay before reconnect attempt `attempt` (1, 2, …): doubling from 1 s up to 30 s, with ±20 % jitter. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(1000 * 2 ** Math.max(attempt - 1, 0), 30_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}
