import {
  SignalMessageFromJSON,
  SignalMessageToJSON,
  type SignalMessage,
} from '../generated/signal/models/SignalMessage.js';
import { HIGH_WATER, LOW_WATER } from './channel.js';
import { decodeRelayFrame, type RelayFrame } from './frame.js';

/** The WebSocket subprotocol of the signal protocol. */
export const SIGNAL_SUBPROTOCOL = 'airlock.signal.v1';
/** The signal protocol version sent in `hello`. */
export const SIGNAL_PROTOCOL_VERSION = 1;

/** How a socket ended: the code and reason of the close (1006 when there was no close frame). */
export interface SocketEnding {
  readonly code: number;
  readonly reason: string;
}

/** What constructs a WebSocket: the browser's, or one passed in {@link ConnectOptions}. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

const CLOSE_GRACE_MS = 3000;
const POLL_MS = 5;

/**
 * A client's WebSocket to a signal node: text frames are `SignalMessage`s (generated from
 * `openapi/signal.yaml`), binary frames relay frames. Malformed frames are ignored.
 */
export class SignalSocket {
  /** Resolves once, when the socket has ended. */
  readonly closed: Promise<SocketEnding>;
  onSignal: (message: SignalMessage) => void = () => {};
  onFrame: (frame: RelayFrame) => void = () => {};
  private wasOpened = false;
  private closing = false;
  private ending: SocketEnding | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.binaryType = 'arraybuffer';
    this.closed = new Promise((resolve) => {
      socket.addEventListener('close', (event: CloseEvent) => {
        this.ending = { code: event.code, reason: event.reason };
        resolve(this.ending);
      });
    });
    socket.addEventListener('message', (event: MessageEvent) => this.received(event.data));
  }

  /**
   * Opens a WebSocket to `url` with the signal subprotocol; resolves when it is open, rejects
   * with the close code when it ends first. The caller sets the timeout (and calls {@link abort}).
   */
  static open(url: string, WebSocketImpl: WebSocketConstructor): { socket: SignalSocket; opened: Promise<void> } {
    const signal = new SignalSocket(new WebSocketImpl(url, SIGNAL_SUBPROTOCOL));
    const opened = new Promise<void>((resolve, reject) => {
      signal.socket.addEventListener('open', () => {
        signal.wasOpened = true;
        resolve();
      });
      signal.closed.then((ending) => reject(ending));
    });
    return { socket: signal, opened };
  }

  /** Whether the socket opened and nobody asked to close it yet. */
  get isOpen(): boolean {
    return this.wasOpened && !this.closing && this.ending === undefined;
  }

  /** How it ended, once it has. */
  get ended(): SocketEnding | undefined {
    return this.ending;
  }

  /** Sends `message` as JSON; silently dropped once the socket is closing. */
  send(message: SignalMessage): void {
    if (this.isOpen) {
      this.socket.send(JSON.stringify(SignalMessageToJSON(message)));
    }
  }

  /**
   * Sends a relay frame (in order with every other send) and resolves when the socket's buffer
   * has room: below 256 KiB again once it passed 1 MiB. Rejects when the socket is closed.
   */
  async sendFrame(frame: Uint8Array<ArrayBuffer>): Promise<void> {
    if (!this.isOpen) {
      throw new Error('signal socket closed');
    }
    this.socket.send(frame);
    if (this.socket.bufferedAmount < HIGH_WATER) {
      return;
    }
    // WebSocket has no event for a draining buffer: poll it.
    while (this.isOpen && this.socket.bufferedAmount >= LOW_WATER) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (!this.isOpen) {
      throw new Error('signal socket closed');
    }
  }

  /**
   * Closes with `code` and `reason` after what is queued; resolves with how the socket ended
   * (after a few seconds without an answer, with the close asked for). Idempotent.
   */
  close(code: number, reason: string): Promise<SocketEnding> {
    if (!this.closing && this.ending === undefined) {
      this.closing = true;
      try {
        this.socket.close(code, reason);
      } catch {
        this.socket.close();
      }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<SocketEnding>((resolve) => {
      timer = setTimeout(() => resolve({ code, reason }), CLOSE_GRACE_MS);
    });
    return Promise.race([this.closed, grace]).finally(() => clearTimeout(timer));
  }

  /** Drops the connection without ceremony (e.g. when opening it timed out). */
  abort(): void {
    this.closing = true;
    try {
      this.socket.close();
    } catch {
      // Nothing to close.
    }
  }

  private received(data: unknown): void {
    try {
      if (typeof data === 'string') {
        const json: unknown = JSON.parse(data);
        if (typeof json === 'object' && json !== null && typeof (json as { type?: unknown }).type === 'string') {
          this.onSignal(SignalMessageFromJSON(json));
        }
      } else if (data instanceof ArrayBuffer) {
        this.onFrame(decodeRelayFrame(data));
      }
    } catch {
      // A malformed frame from the node: ignored, as the Java SDK does.
    }
  }
}
