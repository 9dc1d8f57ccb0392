/**
 * The binary WebSocket frame of a relayed session (see `openapi/signal.yaml`): version 1, the
 * 16-byte session id (UUID, big-endian), the label length L (1..64), L bytes of UTF-8 label,
 * then the payload (at most {@link MAX_PAYLOAD} bytes). An empty payload opens the channel on
 * the other side and is never delivered as a message.
 */
export interface RelayFrame {
  /** The session the bytes belong to, a UUID in its usual text form (lower case). */
  readonly sessionId: string;
  /** The channel's label, 1..64 bytes of UTF-8. */
  readonly channel: string;
  /** The bytes (a view of the decoded frame, not a copy). */
  readonly payload: Uint8Array;
}

/** The frame layout version. */
export const RELAY_FRAME_VERSION = 1;
/** The largest payload of one frame, and the largest message a channel delivers whole. */
export const MAX_PAYLOAD = 64 * 1024;
/** The largest frame: header plus payload. */
export const MAX_FRAME = 1 + 16 + 1 + 64 + MAX_PAYLOAD;

/** A frame that cannot be encoded or decoded; the message says what was expected. */
export class RelayFrameError extends Error {
  override readonly name = 'RelayFrameError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The frame's bytes, ready to send. */
export function encodeRelayFrame(frame: RelayFrame): Uint8Array<ArrayBuffer> {
  const label = checkedLabel(frame.channel);
  if (frame.payload.byteLength > MAX_PAYLOAD) {
    throw new RelayFrameError(
      `relay payload of ${frame.payload.byteLength} bytes (expected: at most ${MAX_PAYLOAD})`,
    );
  }
  const out = new Uint8Array(18 + label.byteLength + frame.payload.byteLength);
  out[0] = RELAY_FRAME_VERSION;
  out.set(uuidBytes(frame.sessionId), 1);
  out[17] = label.byteLength;
  out.set(label, 18);
  out.set(frame.payload, 18 + label.byteLength);
  return out;
}

/** Reads a frame; the payload is a view of `bytes`. Throws {@link RelayFrameError} when malformed. */
export function decodeRelayFrame(bytes: ArrayBuffer | Uint8Array): RelayFrame {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (view.byteLength < 19) {
    throw new RelayFrameError(`relay frame of ${view.byteLength} bytes (expected: at least 19)`);
  }
  if (view[0] !== RELAY_FRAME_VERSION) {
    throw new RelayFrameError(`relay frame version ${view[0]} (expected: ${RELAY_FRAME_VERSION})`);
  }
  const sessionId = uuidText(view.subarray(1, 17));
  const length = view[17]!;
  if (length < 1 || length > 64 || view.byteLength - 18 < length) {
    throw new RelayFrameError(`relay frame label length ${length} (expected: 1..64)`);
  }
  let channel: string;
  try {
    channel = decoder.decode(view.subarray(18, 18 + length));
  } catch {
    throw new RelayFrameError('relay frame label is not UTF-8 (expected: 1..64 bytes of UTF-8)');
  }
  const payload = view.subarray(18 + length);
  if (payload.byteLength > MAX_PAYLOAD) {
    throw new RelayFrameError(`relay payload of ${payload.byteLength} bytes (expected: at most ${MAX_PAYLOAD})`);
  }
  return { sessionId, channel, payload };
}

/** The label's UTF-8 bytes; throws unless they are 1..64. */
export function checkedLabel(label: string): Uint8Array {
  const bytes = encoder.encode(label);
  if (bytes.byteLength < 1 || bytes.byteLength > 64) {
    throw new RelayFrameError(`channel label of ${bytes.byteLength} bytes (expected: 1..64 bytes of UTF-8)`);
  }
  return bytes;
}

function uuidBytes(id: string): Uint8Array {
  if (!UUID.test(id)) {
    throw new RelayFrameError(`session id ${JSON.stringify(id)} (expected: a UUID)`);
  }
  const hex = id.replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function uuidText(bytes: Uint8Array): string {
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
