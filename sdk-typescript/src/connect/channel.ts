import { MAX_PAYLOAD, checkedLabel, encodeRelayFrame } from './frame.js';
import type { SignalSocket } from './signal-socket.js';

/** What {@link Channel.send} takes: bytes, or text (sent as its UTF-8 bytes). */
export type ChannelData = ArrayBuffer | ArrayBufferView | string;

/**
 * One named, ordered, reliable stream of messages between the client and the agent, over a
 * WebRTC data channel or through the signal node's relay: the code that uses it cannot tell
 * which.
 *
 * Messages keep their boundaries up to {@link MAX_MESSAGE} bytes; a longer one is sent as
 * several messages. Empty messages are not delivered. Messages that arrive before anyone
 * listens (with {@link onMessage} or the async iterator; use one of the two) are kept.
 */
export interface Channel {
  /** The label both ends know the channel by, e.g. `echo`. */
  readonly label: string;
  /**
   * Sends the message; resolves once it is handed to the transport, which is only when the
   * transport's buffer has room (below 256 KiB again once it passed 1 MiB), so a caller that
   * awaits each send never queues more than about a megabyte. Sends go out in call order.
   * Rejects when the channel is closed.
   */
  send(data: ChannelData): Promise<void>;
  /** Calls `listener` with each message received; returns a function that stops it. */
  onMessage(listener: (message: Uint8Array) => void): () => void;
  /** The messages received, until the channel closes. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>;
  /** Closes the channel (idempotent); pending sends reject and iteration ends. */
  close(): Promise<void>;
  /** Resolves when the channel has closed. */
  readonly closed: Promise<void>;
}

/** The largest message delivered whole (the relay's largest payload). */
export const MAX_MESSAGE = MAX_PAYLOAD;

/** Senders wait when the transport buffers more than this … */
export const HIGH_WATER = 1 << 20;
/** … until it drops below this. */
export const LOW_WATER = 256 * 1024;

const encoder = new TextEncoder();

/** The message's bytes in pieces of at most {@link MAX_MESSAGE}. */
export function chunks(data: ChannelData): Uint8Array<ArrayBuffer>[] {
  const bytes =
    typeof data === 'string'
      ? encoder.encode(data)
      : data instanceof ArrayBuffer
        ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (let at = 0; at < bytes.byteLength; at += MAX_MESSAGE) {
    // A copy: the caller may reuse its buffer once the send resolves.
    out.push(bytes.slice(at, Math.min(at + MAX_MESSAGE, bytes.byteLength)));
  }
  return out;
}

/** Delivery and ordering shared by both kinds of channel. */
abstract class BaseChannel implements Channel {
  readonly closed: Promise<void>;
  private readonly inbox: Uint8Array[] = [];
  private readonly listeners = new Set<(message: Uint8Array) => void>();
  private waiting: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  private sending: Promise<void> = Promise.resolve();
  private markClosed!: () => void;
  protected isClosed = false;

  protected constructor(readonly label: string) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
  }

  send(data: ChannelData): Promise<void> {
    if (this.isClosed) {
      return Promise.reject(new Error(`channel ${this.label} closed`));
    }
    const pieces = chunks(data);
    const next = this.sending.then(async () => {
      for (const piece of pieces) {
        if (this.isClosed) {
          throw new Error(`channel ${this.label} closed`);
        }
        await this.transmit(piece);
      }
    });
    // One failed send must not fail the ones queued after it.
    this.sending = next.catch(() => undefined);
    return next;
  }

  onMessage(listener: (message: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    for (let message = this.inbox.shift(); message; message = this.inbox.shift()) {
      listener(message);
    }
    return () => this.listeners.delete(listener);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return {
      next: () => {
        const message = this.inbox.shift();
        if (message) {
          return Promise.resolve({ value: message, done: false });
        }
        if (this.isClosed) {
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: async () => {
        this.waiting = undefined;
        return { value: undefined, done: true };
      },
    };
  }

  abstract close(): Promise<void>;

  /** Hands one piece of at most {@link MAX_MESSAGE} bytes to the transport, waiting for room. */
  protected abstract transmit(piece: Uint8Array<ArrayBuffer>): Promise<void>;

  protected deliver(message: Uint8Array): void {
    if (this.isClosed || message.byteLength === 0) {
      return;
    }
    if (this.listeners.size > 0) {
      this.listeners.forEach((listener) => listener(message));
    } else if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: message, done: false });
    } else {
      this.inbox.push(message);
    }
  }

  /** Marks the channel closed: later sends reject and iteration ends. Idempotent. */
  ended(): void {
    if (this.isClosed) {
      return;
    }
    this.isClosed = true;
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
    this.markClosed();
  }
}

/** A {@link Channel} over an `RTCDataChannel` (ordered, reliable, binary messages). */
export class RtcChannel extends BaseChannel {
  constructor(private readonly channel: RTCDataChannel) {
    super(channel.label);
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.addEventListener('message', (event: MessageEvent) => {
      const data: unknown = event.data;
      if (typeof data === 'string') {
        this.deliver(encoder.encode(data));
      } else if (data instanceof ArrayBuffer) {
        this.deliver(new Uint8Array(data));
      } else if (ArrayBuffer.isView(data)) {
        this.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    });
    channel.addEventListener('close', () => this.ended());
  }

  protected async transmit(piece: Uint8Array<ArrayBuffer>): Promise<void> {
    if (this.channel.readyState === 'connecting') {
      await this.until('open');
    }
    if (this.channel.bufferedAmount > HIGH_WATER) {
      await this.until('bufferedamountlow');
    }
    if (this.isClosed || this.channel.readyState !== 'open') {
      throw new Error(`channel ${this.label} closed`);
    }
    this.channel.send(piece);
  }

  /** Resolves at `event`, or when the channel closes first. */
  private until(event: 'open' | 'bufferedamountlow'): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.channel.removeEventListener(event, done);
        this.channel.removeEventListener('close', done);
        resolve();
      };
      this.channel.addEventListener(event, done);
      this.channel.addEventListener('close', done);
    });
  }

  async close(): Promise<void> {
    this.ended();
    try {
      this.channel.close();
    } catch {
      // Already gone with its connection.
    }
  }
}

/**
 * A {@link Channel} through the signal node's relay: each message travels as relay frames of
 * this session and label. Opening one sends an empty frame, which the other end takes as
 * "open" and never delivers.
 */
export class RelayChannel extends BaseChannel {
  constructor(
    private readonly socket: SignalSocket,
    private readonly sessionId: string,
    label: string,
  ) {
    checkedLabel(label);
    super(label);
  }

  /** Tells the other end that this channel exists. */
  announce(): Promise<void> {
    return this.socket.sendFrame(encodeRelayFrame({ sessionId: this.sessionId, channel: this.label, payload: new Uint8Array(0) }));
  }

  /** A payload the node forwarded for this channel. */
  accept(payload: Uint8Array): void {
    // A copy: the frame's buffer may be larger than the payload.
    this.deliver(payload.slice());
  }

  protected transmit(piece: Uint8Array<ArrayBuffer>): Promise<void> {
    return this.socket.sendFrame(encodeRelayFrame({ sessionId: this.sessionId, channel: this.label, payload: piece }));
  }

  async close(): Promise<void> {
    this.ended();
  }
}

/** The relayed channels of one session: opens them by label and routes the frames the node forwards. */
export class RelayChannels {
  private readonly channels = new Map<string, RelayChannel>();

  constructor(
    private readonly socket: SignalSocket,
    private readonly sessionId: string,
  ) {}

  /** Opens the channel `label` (or returns the open one) and tells the other end. */
  async open(label: string): Promise<RelayChannel> {
    let channel = this.channels.get(label);
    if (!channel) {
      channel = new RelayChannel(this.socket, this.sessionId, label);
      this.channels.set(label, channel);
      await channel.announce();
    }
    return channel;
  }

  /** Routes a forwarded frame; a new label opens that channel. Frames of other sessions are ignored. */
  accept(sessionId: string, label: string, payload: Uint8Array): void {
    if (sessionId.toLowerCase() !== this.sessionId.toLowerCase()) {
      return;
    }
    let channel = this.channels.get(label);
    if (!channel) {
      channel = new RelayChannel(this.socket, this.sessionId, label);
      this.channels.set(label, channel);
    }
    channel.accept(payload);
  }

  /** Ends every channel. */
  close(): void {
    this.channels.forEach((channel) => channel.ended());
  }
}
