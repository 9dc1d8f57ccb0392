import type { SessionsApi } from '../generated/apis/SessionsApi.js';
import type { SessionCreated } from '../generated/models/SessionCreated.js';
import type { SessionMode } from '../generated/models/SessionMode.js';
import type { SessionPath } from '../generated/models/SessionPath.js';
import type { SessionTransport } from '../generated/models/SessionTransport.js';
import type { SignalMessage } from '../generated/signal/models/SignalMessage.js';
import { AirlockProblemError } from '../problem.js';
import { RelayChannels, RtcChannel, type Channel } from './channel.js';
import { AirlockConnectError, CloseCodes, refusal, verifyFingerprint } from './errors.js';
import { checkedLabel } from './frame.js';
import {
  SIGNAL_PROTOCOL_VERSION,
  SignalSocket,
  type SocketEnding,
  type WebSocketConstructor,
} from './signal-socket.js';

/** What constructs an `RTCPeerConnection`: the browser's, or one passed in {@link ConnectOptions}. */
export type RTCPeerConnectionConstructor = new (configuration?: RTCConfiguration) => RTCPeerConnection;

/** How to open a remote session; every field is optional. */
export interface ConnectOptions {
  /** `control` (default) or `view`. */
  mode?: SessionMode;
  /** `auto` (default: peer to peer, the relay when that fails) or `relay`. */
  transport?: SessionTransport;
  /**
   * The labels of the channels to open, default `["echo", "info"]`. They are negotiated with
   * the peer connection, so {@link RemoteSession.channel} knows only these.
   */
  channels?: readonly string[];
  /**
   * Ask the agent for its screen: the offer gets one `recvonly` video transceiver (see
   * `docs/remote-view.md`) and {@link RemoteSession.video} resolves with the remote stream.
   * Peer to peer only: the signal node's relay carries data channels, never media, so a
   * session that took (or fell back to) the relay has no video. Default false.
   */
  video?: boolean;
  /** How long to wait for the peer-to-peer connection before falling back to the relay; default 5000. */
  p2pTimeoutMs?: number;
  /** The limit for creating the session, reaching the signal node and its welcome; default 10000 each. */
  signalTimeoutMs?: number;
  /** The WebSocket to use; default the global one (browsers). */
  WebSocket?: WebSocketConstructor;
  /** The RTCPeerConnection to use; default the global one (browsers). */
  RTCPeerConnection?: RTCPeerConnectionConstructor;
}

/** The channels opened by default. */
export const DEFAULT_CHANNELS: readonly string[] = ['echo', 'info'];
/** The default wait for peer to peer before the relay. */
export const DEFAULT_P2P_TIMEOUT_MS = 5000;
/** The default limit for each signalling step. */
export const DEFAULT_SIGNAL_TIMEOUT_MS = 10_000;

/** How a session ended: the signal socket's close code and reason (4410: the platform terminated it). */
export type SessionEnding = SocketEnding;

/**
 * The route a session's data takes, for an indicator: {@link RemoteSession.path}, and for a
 * peer-to-peer session the ICE candidate types of the pair in use (`host`, `srflx`, `prflx`, or
 * `relay` when a TURN server forwards the packets) and its transport protocol.
 */
export interface SessionRoute {
  readonly path: SessionPath;
  readonly localCandidateType?: string;
  readonly remoteCandidateType?: string;
  readonly protocol?: string;
}

/** The reason a session gives the agent and the node when its peer connection failed. */
export const PEER_FAILED_REASON = 'peer connection failed';

interface Resolved {
  mode: SessionMode;
  transport: SessionTransport;
  channels: readonly string[];
  video: boolean;
  p2pTimeoutMs: number;
  signalTimeoutMs: number;
  WebSocket: WebSocketConstructor | undefined;
  RTCPeerConnection: RTCPeerConnectionConstructor | undefined;
}

/**
 * A live remote session to an agent, from {@link AirlockClient.connect}: its channels (the same
 * API peer to peer and through the relay), the path it took, and how it ends.
 */
export class RemoteSession {
  /** Resolves once, when the session has ended, however it ended. */
  readonly closed: Promise<SessionEnding>;
  /**
   * The agent's screen, when {@link ConnectOptions.video} asked for it and the session is peer
   * to peer: resolves with the remote stream when its track arrives, rejects when the session
   * ends first. Undefined without `video`, and on the relay path (the relay carries no media).
   */
  readonly video: Promise<MediaStream> | undefined;
  private closing: Promise<SessionEnding> | undefined;

  /** @internal Made by {@link connectSession}. */
  constructor(
    /** The session's id (as in `GET /api/v1/sessions/{id}`). */
    readonly id: string,
    /** The agent at the other end. */
    readonly agentId: string,
    /** Peer to peer (DTLS, the agent's pinned certificate) or through the signal node's relay. */
    readonly path: SessionPath,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly socket: SignalSocket,
    private readonly peer: RTCPeerConnection | undefined,
    private readonly relay: RelayChannels | undefined,
    video?: Promise<MediaStream>,
  ) {
    this.closed = socket.closed.then((ending) => {
      this.release();
      return ending;
    });
    this.video = video;
    if (peer) {
      // A peer connection that failed for good (ICE lost) ends the session, so that `closed`
      // tells the viewer, which may reconnect; `disconnected` may still recover by itself.
      peer.addEventListener('connectionstatechange', () => {
        if (peer.connectionState === 'failed') {
          void this.end(PEER_FAILED_REASON);
        }
      });
    }
  }

  /**
   * The route the data takes: the path, and for peer to peer the selected ICE candidate pair's
   * types (from `getStats`; absent when the browser does not tell).
   */
  async route(): Promise<SessionRoute> {
    if (this.path !== 'p2p' || !this.peer) {
      return { path: this.path };
    }
    try {
      const stats = await this.peer.getStats();
      let pairId: string | undefined;
      stats.forEach((report: { type?: string; selectedCandidatePairId?: string }) => {
        if (report.type === 'transport' && report.selectedCandidatePairId) {
          pairId = report.selectedCandidatePairId;
        }
      });
      let pair: { localCandidateId?: string; remoteCandidateId?: string } | undefined;
      stats.forEach((report: { type?: string; id?: string; state?: string; nominated?: boolean; selected?: boolean }) => {
        if (report.type !== 'candidate-pair') {
          return;
        }
        // Chromium names the pair in the transport report; Firefox marks it `selected`.
        if (pairId ? report.id === pairId : report.selected || (report.nominated && report.state === 'succeeded')) {
          pair = report as typeof pair;
        }
      });
      if (!pair) {
        return { path: this.path };
      }
      const local = pair.localCandidateId ? stats.get(pair.localCandidateId) : undefined;
      const remote = pair.remoteCandidateId ? stats.get(pair.remoteCandidateId) : undefined;
      return {
        path: this.path,
        ...(local?.candidateType ? { localCandidateType: String(local.candidateType) } : {}),
        ...(remote?.candidateType ? { remoteCandidateType: String(remote.candidateType) } : {}),
        ...(local?.protocol ? { protocol: String(local.protocol) } : {}),
      };
    } catch {
      return { path: this.path };
    }
  }

  /** The channel `label`, one of {@link ConnectOptions.channels}; throws for any other label. */
  channel(label: string): Channel {
    const channel = this.channels.get(label);
    if (!channel) {
      throw new Error(
        `channel ${label}: not opened (expected one of [${[...this.channels.keys()].join(', ')}]; ` +
          'declare it in ConnectOptions.channels)',
      );
    }
    return channel;
  }

  /** Ends the session (idempotent): tells the agent, closes the socket with 1000. */
  close(): Promise<SessionEnding> {
    return this.end('closed by the client');
  }

  private end(reason: string): Promise<SessionEnding> {
    if (!this.closing) {
      if (this.socket.isOpen) {
        const why = reason === PEER_FAILED_REASON ? PEER_FAILED_REASON : 'session closed';
        this.closing = this.byteCounts()
          .then((counts) => {
            if (this.socket.isOpen) {
              this.socket.send({ type: 'session.close', sessionId: this.id, reason, ...counts });
            }
            return this.socket.close(CloseCodes.NORMAL, why);
          })
          .then((ending) => {
            this.release();
            return ending;
          });
      } else {
        this.closing = this.closed;
      }
    }
    return this.closing;
  }

  /**
   * The bytes this end sent and received on the peer connection (screen, channels), for the
   * audit: the signal node sees none of a peer-to-peer session. Empty on the relay (the node
   * counts those) or when the browser's statistics do not answer within a second.
   */
  private async byteCounts(): Promise<{ bytesSent?: number; bytesReceived?: number }> {
    const peer = this.peer;
    if (!peer || this.path !== 'p2p' || typeof peer.getStats !== 'function') {
      return {};
    }
    try {
      const report = await within(peer.getStats(), 1000, () => new Error('no statistics'));
      let sent = 0;
      let received = 0;
      report.forEach((entry: { type?: string; bytesSent?: number; bytesReceived?: number }) => {
        if (entry.type === 'transport') {
          sent += entry.bytesSent ?? 0;
          received += entry.bytesReceived ?? 0;
        }
      });
      return { bytesSent: sent, bytesReceived: received };
    } catch {
      return {};
    }
  }

  private release(): void {
    this.relay?.close();
    this.channels.forEach((channel) => void channel.close());
    try {
      this.peer?.close();
    } catch {
      // Already closed.
    }
  }
}

/** Peer to peer did not work out (timeout, failed ICE): the relay takes over. */
class P2pFailed extends Error {}

/** A promise with its settle functions. */
class Deferred<T> {
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;
  readonly promise = new Promise<T>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });
}

/** `promise`, or `onTimeout()`'s error after `ms`. */
function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function resolveOptions(options: ConnectOptions): Resolved {
  const channels = [...(options.channels ?? DEFAULT_CHANNELS)];
  const labelOk = (label: unknown) => {
    try {
      checkedLabel(label as string);
      return typeof label === 'string';
    } catch {
      return false;
    }
  };
  if (channels.length === 0 || !channels.every(labelOk)) {
    throw new TypeError(`channels: ${JSON.stringify(channels)} (expected: at least one label of 1..64 bytes)`);
  }
  if (new Set(channels).size !== channels.length) {
    throw new TypeError(`channels: ${JSON.stringify(channels)} (expected: distinct labels)`);
  }
  const positive = (name: string, value: number | undefined, fallback: number) => {
    const ms = value ?? fallback;
    if (!Number.isFinite(ms) || ms <= 0) {
      throw new TypeError(`${name}: ${value} (expected: a positive number of milliseconds)`);
    }
    return ms;
  };
  const globals = globalThis as { WebSocket?: WebSocketConstructor; RTCPeerConnection?: RTCPeerConnectionConstructor };
  return {
    mode: options.mode ?? 'control',
    transport: options.transport ?? 'auto',
    channels,
    video: options.video ?? false,
    p2pTimeoutMs: positive('p2pTimeoutMs', options.p2pTimeoutMs, DEFAULT_P2P_TIMEOUT_MS),
    signalTimeoutMs: positive('signalTimeoutMs', options.signalTimeoutMs, DEFAULT_SIGNAL_TIMEOUT_MS),
    WebSocket: options.WebSocket ?? globals.WebSocket,
    RTCPeerConnection: options.RTCPeerConnection ?? globals.RTCPeerConnection,
  };
}

/**
 * Opens a remote session (see {@link AirlockClient.connect}): `POST /api/v1/sessions`, the
 * signal node's client socket with the connect token, then a WebRTC offer whose answer must
 * carry the agent's registered DTLS fingerprint, and the relay when the transport is `relay` or
 * peer to peer does not connect in time.
 */
export async function connectSession(
  sessions: SessionsApi,
  target: string,
  options: ConnectOptions = {},
): Promise<RemoteSession> {
  const resolved = resolveOptions(options);
  if (!resolved.WebSocket) {
    throw new AirlockConnectError(
      'connect: no WebSocket in this runtime (expected: a browser, or ConnectOptions.WebSocket)',
    );
  }
  let created: SessionCreated;
  try {
    created = await sessions.createSession(
      { sessionCreate: { target, mode: resolved.mode, transport: resolved.transport } },
      { signal: AbortSignal.timeout(resolved.signalTimeoutMs) },
    );
  } catch (error) {
    if (!(error instanceof AirlockProblemError) && isTimeout(error)) {
      throw new AirlockConnectError(
        `cannot create the session: no answer from the platform within ${seconds(resolved.signalTimeoutMs)}`,
        0,
        { cause: error },
      );
    }
    throw error;
  }
  return new Attempt(created, resolved, resolved.WebSocket).run();
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') {
      return true;
    }
  }
  return false;
}

/** One connection attempt and the state it gathers. */
class Attempt {
  private readonly welcome = new Deferred<SignalMessage>();
  private readonly answer = new Deferred<string>();
  /** Rejects with the refusal when the socket closes; never resolves. */
  private readonly refused = new Deferred<never>();
  private readonly pendingCandidates: RTCIceCandidateInit[] = [];
  private socket: SignalSocket | undefined;
  private peer: RTCPeerConnection | undefined;
  private relay: RelayChannels | undefined;
  private remoteDescriptionSet = false;
  private sessionId: string;

  constructor(
    private readonly created: SessionCreated,
    private readonly options: Resolved,
    private readonly WebSocketImpl: WebSocketConstructor,
  ) {
    this.sessionId = created.id;
    for (const deferred of [this.welcome, this.answer, this.refused]) {
      deferred.promise.catch(() => undefined);
    }
  }

  async run(): Promise<RemoteSession> {
    try {
      return await this.handshake();
    } catch (error) {
      this.cleanUp();
      throw error;
    }
  }

  private async handshake(): Promise<RemoteSession> {
    const url = this.created.signalUrl;
    const timeout = this.options.signalTimeoutMs;
    let opening: ReturnType<typeof SignalSocket.open>;
    try {
      opening = SignalSocket.open(url, this.WebSocketImpl);
    } catch (error) {
      throw new AirlockConnectError(`cannot reach the signal node at ${url}: ${(error as Error).message}`, 0, {
        cause: error,
      });
    }
    const socket = opening.socket;
    this.socket = socket;
    socket.onSignal = (message) => this.onSignal(message);
    socket.onFrame = (frame) => this.relay?.accept(frame.sessionId, frame.channel, frame.payload);
    socket.closed.then((ending) => {
      const error = refusal(ending.code, ending.reason);
      this.refused.reject(error);
      this.welcome.reject(error);
      this.answer.reject(error);
    });
    try {
      await within(opening.opened, timeout, () => new Error(`no answer within ${seconds(timeout)}`));
    } catch (error) {
      socket.abort();
      const why =
        error instanceof Error ? error.message : `the connection failed (close ${(error as SocketEnding).code})`;
      throw new AirlockConnectError(`cannot reach the signal node at ${url}: ${why}`, 0, { cause: error });
    }
    socket.send({ type: 'hello', protocol: SIGNAL_PROTOCOL_VERSION, connectToken: this.created.connectToken });
    const welcomed = await within(
      this.welcome.promise,
      timeout,
      () => new AirlockConnectError(`no welcome from the signal node within ${seconds(timeout)}`),
    );
    if (welcomed.sessionId) {
      this.sessionId = welcomed.sessionId;
    }
    const relayOnly =
      this.options.transport === 'relay' || welcomed.transport === 'relay' || this.created.transport === 'relay';
    if (relayOnly) {
      return this.viaRelay();
    }
    try {
      return await this.peerToPeer();
    } catch (error) {
      return this.fallBack(error);
    }
  }

  private onSignal(message: SignalMessage): void {
    switch (message.type) {
      case 'welcome':
        this.welcome.resolve(message);
        break;
      case 'sdp':
        if (message.sdpType === 'answer' && message.sdp !== undefined) {
          this.answer.resolve(message.sdp);
        }
        break;
      case 'ice':
        this.addRemoteCandidate(message);
        break;
      default:
      // session.close, error and the rest: nothing to do here; the socket's close tells the end.
    }
  }

  private addRemoteCandidate(message: SignalMessage): void {
    const peer = this.peer;
    if (!peer || !message.candidate || message.candidate.trim() === '') {
      return;
    }
    const candidate: RTCIceCandidateInit = {
      candidate: message.candidate,
      sdpMid: message.sdpMid ?? null,
      sdpMLineIndex: message.sdpMLineIndex ?? 0,
    };
    if (!this.remoteDescriptionSet) {
      this.pendingCandidates.push(candidate);
      return;
    }
    peer.addIceCandidate(candidate).catch(() => undefined);
  }

  private async peerToPeer(): Promise<RemoteSession> {
    const socket = this.socket!;
    const RTC = this.options.RTCPeerConnection;
    if (!RTC) {
      throw new P2pFailed('no RTCPeerConnection in this runtime');
    }
    const iceServers: RTCIceServer[] = (this.created.iceServers ?? []).map((server) => ({
      urls: server.urls,
      ...(server.username !== undefined ? { username: server.username } : {}),
      ...(server.credential !== undefined ? { credential: server.credential } : {}),
    }));
    const peer = new RTC({ iceServers });
    this.peer = peer;
    const channels = new Map<string, Channel>();
    for (const label of this.options.channels) {
      channels.set(label, new RtcChannel(peer.createDataChannel(label)));
    }
    const video = this.options.video ? this.receiveVideo(peer, socket) : undefined;
    const connected = new Deferred<void>();
    connected.promise.catch(() => undefined);
    peer.addEventListener('connectionstatechange', () => {
      const state = peer.connectionState;
      if (state === 'connected') {
        connected.resolve();
      } else if (state === 'failed' || state === 'closed') {
        connected.reject(new P2pFailed(`peer connection ${state} before it connected`));
      }
    });
    peer.addEventListener('icecandidate', (event: RTCPeerConnectionIceEvent) => {
      const candidate = event.candidate;
      if (candidate && candidate.candidate) {
        socket.send({
          type: 'ice',
          sessionId: this.sessionId,
          candidate: candidate.candidate,
          ...(candidate.sdpMid != null ? { sdpMid: candidate.sdpMid } : {}),
          ...(candidate.sdpMLineIndex != null ? { sdpMLineIndex: candidate.sdpMLineIndex } : {}),
        });
      }
    });
    const negotiation = (async () => {
      const offer = await peer.createOffer();
      await peer.setLocalDescription(offer);
      socket.send({ type: 'sdp', sessionId: this.sessionId, sdpType: 'offer', sdp: offer.sdp ?? '' });
      const answerSdp = await Promise.race([this.answer.promise, this.refused.promise]);
      // Before the answer is applied: a tampered SDP must never reach the peer connection.
      verifyFingerprint(this.created.agentFingerprint, answerSdp);
      await peer.setRemoteDescription({ type: 'answer', sdp: answerSdp });
      this.remoteDescriptionSet = true;
      for (const candidate of this.pendingCandidates.splice(0)) {
        peer.addIceCandidate(candidate).catch(() => undefined);
      }
      await Promise.race([connected.promise, this.refused.promise]);
    })();
    negotiation.catch(() => undefined);
    const p2pTimeout = this.options.p2pTimeoutMs;
    await within(negotiation, p2pTimeout, () => new P2pFailed(`no connection within ${seconds(p2pTimeout)}`));
    return new RemoteSession(this.sessionId, this.created.agentId, 'p2p', channels, socket, peer, undefined, video);
  }

  /**
   * Adds the `recvonly` video transceiver (before the offer: it makes the offer's video m-line)
   * and returns the stream its track arrives in; rejects when the socket closes first.
   */
  private receiveVideo(peer: RTCPeerConnection, socket: SignalSocket): Promise<MediaStream> {
    const stream = new Deferred<MediaStream>();
    stream.promise.catch(() => undefined);
    peer.addTransceiver('video', { direction: 'recvonly' });
    peer.addEventListener('track', (event: RTCTrackEvent) => {
      if (event.track.kind !== 'video') {
        return;
      }
      // A remote screen is interactive: play each frame as soon as it is decoded rather than
      // buffering for smoothness (Chromium's jitterBufferTarget, in ms; ignored where absent).
      const receiver = event.receiver as RTCRtpReceiver & { jitterBufferTarget?: number | null };
      if (receiver && 'jitterBufferTarget' in receiver) {
        try {
          receiver.jitterBufferTarget = 0;
        } catch {
          // Read-only or out of range in this browser: keep its default.
        }
      }
      const given = event.streams?.[0];
      if (given) {
        stream.resolve(given);
        return;
      }
      // An answer without a=msid gives a track in no stream: wrap it.
      const MediaStreamImpl = (globalThis as { MediaStream?: new (tracks: MediaStreamTrack[]) => MediaStream }).MediaStream;
      if (MediaStreamImpl) {
        stream.resolve(new MediaStreamImpl([event.track]));
      }
    });
    socket.closed.then((ending) =>
      stream.reject(new AirlockConnectError(`the session ended before the screen arrived (close ${ending.code})`, ending.code)),
    );
    return stream.promise;
  }

  private async fallBack(error: unknown): Promise<RemoteSession> {
    const socket = this.socket!;
    if (error instanceof AirlockConnectError) {
      if (error.closeCode === 0 && socket.isOpen) {
        // A fingerprint mismatch: the session must not go on, on any path.
        socket.send({ type: 'session.close', sessionId: this.sessionId, reason: 'DTLS fingerprint mismatch' });
        await socket.close(CloseCodes.NORMAL, 'DTLS fingerprint mismatch');
      }
      throw error;
    }
    if (!socket.isOpen) {
      // Closed under us while peer to peer was failing: report the close.
      const ending = socket.ended ?? (await socket.closed);
      throw refusal(ending.code, ending.reason);
    }
    this.closePeer();
    return this.viaRelay();
  }

  private async viaRelay(): Promise<RemoteSession> {
    const socket = this.socket!;
    socket.send({ type: 'relay', sessionId: this.sessionId });
    const relay = new RelayChannels(socket, this.sessionId);
    this.relay = relay;
    const channels = new Map<string, Channel>();
    try {
      for (const label of this.options.channels) {
        channels.set(label, await relay.open(label));
      }
    } catch (error) {
      const ending = socket.ended;
      throw ending ? refusal(ending.code, ending.reason) : error;
    }
    return new RemoteSession(this.sessionId, this.created.agentId, 'relay', channels, socket, undefined, relay);
  }

  private closePeer(): void {
    const peer = this.peer;
    this.peer = undefined;
    try {
      peer?.close();
    } catch {
      // Already closed.
    }
  }

  private cleanUp(): void {
    this.closePeer();
    this.relay?.close();
    const socket = this.socket;
    if (socket?.isOpen) {
      void socket.close(CloseCodes.NORMAL, 'connect failed');
    } else {
      socket?.abort();
    }
  }
}
