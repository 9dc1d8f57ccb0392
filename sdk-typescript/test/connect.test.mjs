// Unit tests of connect()'s pure parts (relay frames, SDP fingerprints, close codes) and of its
// signalling against a scripted WebSocket and RTCPeerConnection. The browser end-to-end test
// (real Chromium, agent and signal node) comes with the portal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  AirlockClient,
  AirlockConnectError,
  CloseCodes,
  MAX_PAYLOAD,
  RelayFrameError,
  decodeRelayFrame,
  encodeRelayFrame,
  refusal,
  sdpFingerprint,
  verifyFingerprint,
} from '../dist/index.js';

const SESSION = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const HEX = Array.from({ length: 32 }, (_, i) => (i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
const FINGERPRINT = `sha-256 ${HEX}`;
const OTHER = `sha-256 ${HEX.replace(/^../, 'FF')}`;

describe('RelayFrame', () => {
  it('encodes the layout of signal.yaml and decodes it back', () => {
    const payload = new Uint8Array([1, 2, 3, 250]);
    const bytes = encodeRelayFrame({ sessionId: SESSION, channel: 'echo', payload });
    assert.equal(bytes.byteLength, 1 + 16 + 1 + 4 + 4);
    assert.equal(bytes[0], 1);
    assert.deepEqual([...bytes.subarray(1, 17)], [...Buffer.from(SESSION.replace(/-/g, ''), 'hex')]);
    assert.equal(bytes[17], 4);
    assert.equal(Buffer.from(bytes.subarray(18, 22)).toString(), 'echo');
    assert.deepEqual([...bytes.subarray(22)], [1, 2, 3, 250]);

    const frame = decodeRelayFrame(bytes.buffer);
    assert.equal(frame.sessionId, SESSION);
    assert.equal(frame.channel, 'echo');
    assert.deepEqual([...frame.payload], [1, 2, 3, 250]);
  });

  it('round-trips a UTF-8 label, an empty payload (channel open) and a 64 KiB payload', () => {
    const label = 'ünïcødé-€'.padEnd(20, 'x');
    const open = decodeRelayFrame(encodeRelayFrame({ sessionId: SESSION.toUpperCase(), channel: label, payload: new Uint8Array(0) }));
    assert.equal(open.channel, label);
    assert.equal(open.sessionId, SESSION);
    assert.equal(open.payload.byteLength, 0);
    const big = new Uint8Array(MAX_PAYLOAD).map((_, i) => i % 251);
    const decoded = decodeRelayFrame(encodeRelayFrame({ sessionId: SESSION, channel: 'l'.repeat(64), payload: big }));
    assert.equal(decoded.channel.length, 64);
    assert.deepEqual(decoded.payload, big);
  });

  it('refuses to encode a bad label, payload or session id', () => {
    const frame = { sessionId: SESSION, channel: 'echo', payload: new Uint8Array(0) };
    assert.throws(() => encodeRelayFrame({ ...frame, channel: '' }), /channel label of 0 bytes \(expected: 1\.\.64/);
    assert.throws(() => encodeRelayFrame({ ...frame, channel: 'é'.repeat(33) }), /label of 66 bytes/);
    assert.throws(() => encodeRelayFrame({ ...frame, payload: new Uint8Array(MAX_PAYLOAD + 1) }), /65537 bytes \(expected: at most 65536\)/);
    assert.throws(() => encodeRelayFrame({ ...frame, sessionId: 'not-a-uuid' }), RelayFrameError);
  });

  it('refuses malformed frames', () => {
    const good = encodeRelayFrame({ sessionId: SESSION, channel: 'echo', payload: new Uint8Array([9]) });
    const variant = (change) => {
      const copy = good.slice();
      change(copy);
      return copy;
    };
    assert.throws(() => decodeRelayFrame(good.subarray(0, 18)), /relay frame of 18 bytes \(expected: at least 19\)/);
    assert.throws(() => decodeRelayFrame(variant((b) => (b[0] = 2))), /version 2 \(expected: 1\)/);
    assert.throws(() => decodeRelayFrame(variant((b) => (b[17] = 0))), /label length 0/);
    assert.throws(() => decodeRelayFrame(variant((b) => (b[17] = 65))), /label length 65/);
    assert.throws(() => decodeRelayFrame(variant((b) => (b[17] = 10))), /label length 10/); // longer than the frame
    assert.throws(() => decodeRelayFrame(variant((b) => (b[18] = 0xff))), /not UTF-8/);
    const tooBig = new Uint8Array(18 + 4 + MAX_PAYLOAD + 1);
    tooBig.set(good.subarray(0, 22));
    assert.throws(() => decodeRelayFrame(tooBig), /at most 65536/);
    for (const bad of [good.subarray(0, 5), variant((b) => (b[0] = 0))]) {
      assert.throws(() => decodeRelayFrame(bad), RelayFrameError);
    }
  });
});

describe('SDP fingerprint', () => {
  const sdp = (...lines) => ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', ...lines, 'a=setup:actpass'].join('\r\n') + '\r\n';

  it('normalises to sha-256 and upper-case hex, across CRLF and repeated media sections', () => {
    const lower = HEX.toLowerCase();
    assert.equal(sdpFingerprint(sdp(`a=fingerprint:SHA-256 ${lower}`)), FINGERPRINT);
    assert.equal(sdpFingerprint(sdp(`a=fingerprint:sha-1 AA:BB`, `a=fingerprint:sha-256 ${HEX}`, `a=fingerprint:sha-256 ${lower}`)), FINGERPRINT);
  });

  it('refuses a missing, malformed or ambiguous fingerprint', () => {
    assert.throws(() => sdpFingerprint(undefined), /missing/);
    assert.throws(() => sdpFingerprint(sdp('a=fingerprint:sha-1 AA:BB')), /without an a=fingerprint:sha-256 line/);
    assert.throws(() => sdpFingerprint(sdp('a=fingerprint:sha-256 AB:CD')), /expected: 32 hex pairs/);
    assert.throws(() => sdpFingerprint(sdp(`a=fingerprint:sha-256 ${HEX}`, `a=fingerprint:sha-256 ${OTHER.slice(8)}`)), /two different fingerprints/);
  });

  it('verifies the answer against the registered fingerprint, with the Java SDK\'s wording', () => {
    verifyFingerprint(FINGERPRINT.toLowerCase(), sdp(`a=fingerprint:sha-256 ${HEX}`));
    const error = (() => {
      try {
        verifyFingerprint(OTHER, sdp(`a=fingerprint:sha-256 ${HEX}`));
      } catch (e) {
        return e;
      }
    })();
    assert.ok(error instanceof AirlockConnectError);
    assert.equal(error.closeCode, 0);
    assert.equal(
      error.message,
      `DTLS fingerprint mismatch: the agent registered ${OTHER} but answered with ${FINGERPRINT}; ` +
        'the SDP was tampered with or the agent is not the enrolled one',
    );
    assert.throws(() => verifyFingerprint(FINGERPRINT, sdp()), /DTLS fingerprint missing from the agent's answer \(SDP without .*\); expected sha-256/);
  });
});

describe('close codes', () => {
  it('become errors that name the code and the reason', () => {
    const cases = [
      [4401, 'bad token', 'the signal node refused the connect token (close 4401 (bad token))'],
      [4404, 'agent gone', 'the agent is not connected to the signal node that the platform named (close 4404 (agent gone))'],
      [4409, 'replayed', 'the connect token was already used (close 4409 (replayed))'],
      [4410, 'terminated by alice', 'the platform terminated the session (close 4410 (terminated by alice))'],
      [4029, 'limit 64', 'the agent has too many sessions (close 4029 (limit 64))'],
      [1006, '', 'the signal node closed the connection (close 1006)'],
    ];
    for (const [code, reason, message] of cases) {
      const error = refusal(code, reason);
      assert.ok(error instanceof AirlockConnectError);
      assert.equal(error.closeCode, code);
      assert.equal(error.message, message);
    }
    assert.equal(CloseCodes.SESSION_TERMINATED, 4410);
  });
});

// ---- Signalling against scripted fakes ----------------------------------------------------

const AGENT = '11111111-2222-3333-4444-555555555555';

function platform(overrides = {}) {
  const requests = [];
  const fetch = async (url, init = {}) => {
    requests.push({ path: new URL(url).pathname, body: init.body && JSON.parse(init.body) });
    return new Response(
      JSON.stringify({
        id: SESSION, userId: AGENT, username: 'alice', agentId: AGENT, mode: 'control', transport: 'auto',
        state: 'pending', createdAt: new Date().toISOString(), connectToken: 'ct-1',
        connectTokenExpiresAt: new Date().toISOString(), signalUrl: 'ws://signal.test/signal/v1/client',
        iceServers: [{ urls: ['stun:stun.test'] }], agentFingerprint: FINGERPRINT, ...overrides,
      }),
      { status: 201, headers: { 'Content-Type': 'application/json' } },
    );
  };
  return { requests, client: new AirlockClient({ baseUrl: 'http://airlock.test', apiKey: 'alk_x', fetch }) };
}

function event(type, fields = {}) {
  return Object.assign(new Event(type), fields);
}

/** A WebSocket whose node side is `node(message, socket)`, called with each text message sent. */
function fakeWebSocket(node) {
  const sockets = [];
  class FakeWebSocket extends EventTarget {
    constructor(url, protocol) {
      super();
      this.url = url;
      this.protocol = protocol;
      this.bufferedAmount = 0;
      this.sent = [];
      this.frames = [];
      this.closedWith = undefined;
      sockets.push(this);
      setTimeout(() => this.dispatchEvent(event('open')));
    }
    send(data) {
      if (typeof data === 'string') {
        const message = JSON.parse(data);
        this.sent.push(message);
        node(message, this);
      } else {
        this.frames.push(decodeRelayFrame(data));
      }
    }
    close(code = 1005, reason = '') {
      if (!this.closedWith) {
        this.closedWith = { code, reason };
        setTimeout(() => this.dispatchEvent(event('close', { code, reason })));
      }
    }
    /** The node sends a text message or a binary frame. */
    receive(data) {
      this.dispatchEvent(event('message', { data: typeof data === 'string' ? data : data.buffer }));
    }
  }
  return { FakeWebSocket, sockets };
}

/** An RTCPeerConnection that offers, and connects once the answer is set (unless told to hang). */
function fakePeerConnection({ connects = true } = {}) {
  const peers = [];
  class FakeRTCPeerConnection extends EventTarget {
    constructor(configuration) {
      super();
      this.configuration = configuration;
      this.connectionState = 'new';
      this.channels = [];
      this.remote = undefined;
      this.closed = false;
      this.transceivers = [];
      peers.push(this);
    }
    addTransceiver(kind, init) {
      this.transceivers.push({ kind, ...init });
      return {};
    }
    /** The agent's screen track arrives, as the browser tells it after the answer. */
    deliverTrack(kind = 'video', streams = [{ id: 'screen' }]) {
      this.dispatchEvent(event('track', { track: { kind }, streams }));
    }
    /** The connection state changes, e.g. to `failed` when ICE is lost. */
    setState(state) {
      this.connectionState = state;
      this.dispatchEvent(event('connectionstatechange'));
    }
    async getStats() {
      return new Map([
        ['T1', { id: 'T1', type: 'transport', selectedCandidatePairId: 'CP1', bytesSent: 1234, bytesReceived: 567890 }],
        ['CP1', { id: 'CP1', type: 'candidate-pair', localCandidateId: 'L1', remoteCandidateId: 'R1' }],
        ['L1', { id: 'L1', type: 'local-candidate', candidateType: 'srflx', protocol: 'udp' }],
        ['R1', { id: 'R1', type: 'remote-candidate', candidateType: 'host', protocol: 'udp' }],
      ]);
    }
    createDataChannel(label) {
      const channel = Object.assign(new EventTarget(), { label, readyState: 'connecting', bufferedAmount: 0, close() {} });
      this.channels.push(channel);
      return channel;
    }
    async createOffer() {
      return { type: 'offer', sdp: 'v=0\r\na=fingerprint:sha-256 00:11\r\n' };
    }
    async setLocalDescription() {
      setTimeout(() => this.dispatchEvent(event('icecandidate', { candidate: { candidate: 'candidate:1 1 udp 1 10.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } })));
    }
    async setRemoteDescription(description) {
      this.remote = description;
      if (connects) {
        setTimeout(() => {
          this.connectionState = 'connected';
          this.dispatchEvent(event('connectionstatechange'));
        });
      }
    }
    async addIceCandidate() {}
    close() {
      this.closed = true;
    }
  }
  return { FakeRTCPeerConnection, peers };
}

const welcome = JSON.stringify({ type: 'welcome', protocol: 1, sessionId: SESSION, nodeId: 'node-1', transport: 'auto' });
const answer = (fingerprint) =>
  JSON.stringify({ type: 'sdp', sessionId: SESSION, sdpType: 'answer', sdp: `v=0\r\na=fingerprint:${fingerprint}\r\n` });

describe('connect', () => {
  it('goes peer to peer: hello, offer, checked answer, then the declared channels', async () => {
    const { client, requests } = platform();
    const ws = fakeWebSocket((message, socket) => {
      if (message.type === 'hello') setTimeout(() => socket.receive(welcome));
      if (message.type === 'sdp') setTimeout(() => socket.receive(answer(FINGERPRINT)));
    });
    const rtc = fakePeerConnection();
    const session = await client.connect('desk-1', { WebSocket: ws.FakeWebSocket, RTCPeerConnection: rtc.FakeRTCPeerConnection });
    assert.deepEqual(requests[0], { path: '/api/v1/sessions', body: { target: 'desk-1', mode: 'control', transport: 'auto' } });
    const [socket] = ws.sockets;
    assert.equal(socket.url, 'ws://signal.test/signal/v1/client');
    assert.equal(socket.protocol, 'airlock.signal.v1');
    assert.deepEqual(socket.sent[0], { type: 'hello', protocol: 1, connectToken: 'ct-1' });
    assert.equal(socket.sent[1].type, 'sdp');
    assert.equal(socket.sent[1].sdpType, 'offer');
    assert.ok(socket.sent.some((m) => m.type === 'ice' && m.sdpMid === '0' && m.sdpMLineIndex === 0));
    assert.equal(session.path, 'p2p');
    assert.equal(session.id, SESSION);
    assert.equal(session.agentId, AGENT);
    assert.deepEqual(rtc.peers[0].configuration, { iceServers: [{ urls: ['stun:stun.test'] }] });
    assert.deepEqual(rtc.peers[0].channels.map((c) => c.label), ['echo', 'info']);
    assert.equal(session.channel('echo').label, 'echo');
    assert.throws(() => session.channel('files'), /channel files: not opened \(expected one of \[echo, info\]/);
    const ending = await session.close();
    assert.equal(ending.code, 1000);
    assert.equal(socket.sent.at(-1).type, 'session.close');
    assert.ok(rtc.peers[0].closed);
  });

  it('refuses a tampered answer: session.close, socket closed, peer closed, no relay', async () => {
    const { client } = platform();
    const ws = fakeWebSocket((message, socket) => {
      if (message.type === 'hello') setTimeout(() => socket.receive(welcome));
      if (message.type === 'sdp') setTimeout(() => socket.receive(answer(OTHER)));
    });
    const rtc = fakePeerConnection();
    const error = await client
      .connect('desk-1', { WebSocket: ws.FakeWebSocket, RTCPeerConnection: rtc.FakeRTCPeerConnection })
      .catch((e) => e);
    assert.ok(error instanceof AirlockConnectError, String(error));
    assert.match(error.message, /^DTLS fingerprint mismatch: the agent registered sha-256 03:.* but answered with sha-256 FF:/);
    const [socket] = ws.sockets;
    assert.deepEqual(socket.sent.at(-1), { type: 'session.close', sessionId: SESSION, reason: 'DTLS fingerprint mismatch' });
    assert.equal(socket.closedWith.code, 1000);
    assert.equal(rtc.peers[0].remote, undefined); // the answer was never applied
    assert.ok(rtc.peers[0].closed);
    assert.ok(!socket.sent.some((m) => m.type === 'relay'));
  });

  it('falls back to the relay when peer to peer does not connect in time', async () => {
    const { client } = platform();
    const ws = fakeWebSocket((message, socket) => {
      if (message.type === 'hello') setTimeout(() => socket.receive(welcome));
      if (message.type === 'sdp') setTimeout(() => socket.receive(answer(FINGERPRINT)));
    });
    const rtc = fakePeerConnection({ connects: false });
    const session = await client.connect('desk-1', {
      WebSocket: ws.FakeWebSocket,
      RTCPeerConnection: rtc.FakeRTCPeerConnection,
      p2pTimeoutMs: 50,
    });
    const [socket] = ws.sockets;
    assert.equal(session.path, 'relay');
    assert.ok(rtc.peers[0].closed);
    assert.deepEqual(socket.sent.at(-1), { type: 'relay', sessionId: SESSION });
    // Each channel is announced with an empty frame.
    assert.deepEqual(socket.frames.map((f) => [f.channel, f.payload.byteLength]), [['echo', 0], ['info', 0]]);
    await session.close();
  });

  it('relays channel messages both ways, chunked at 64 KiB, for transport relay', async () => {
    const { client, requests } = platform({ transport: 'relay' });
    const ws = fakeWebSocket((message, socket) => {
      if (message.type === 'hello') setTimeout(() => socket.receive(welcome));
    });
    const session = await client.connect('desk-1', { transport: 'relay', channels: ['echo'], WebSocket: ws.FakeWebSocket });
    assert.equal(requests[0].body.transport, 'relay');
    const [socket] = ws.sockets;
    assert.equal(session.path, 'relay');
    assert.ok(!socket.sent.some((m) => m.type === 'sdp'));
    const echo = session.channel('echo');

    await echo.send('hello');
    await echo.send(new Uint8Array(MAX_PAYLOAD + 10));
    const payloads = socket.frames.slice(1).map((f) => f.payload.byteLength);
    assert.deepEqual(payloads, [5, MAX_PAYLOAD, 10]);
    assert.equal(Buffer.from(socket.frames[1].payload).toString(), 'hello');

    // Frames of the session arrive as messages; empty ones and other sessions' are not delivered.
    socket.receive(encodeRelayFrame({ sessionId: SESSION, channel: 'echo', payload: new Uint8Array(0) }));
    socket.receive(encodeRelayFrame({ sessionId: AGENT, channel: 'echo', payload: new Uint8Array([7]) }));
    socket.receive(encodeRelayFrame({ sessionId: SESSION, channel: 'echo', payload: new TextEncoder().encode('back') }));
    socket.receive(new Uint8Array([1, 2, 3])); // malformed: ignored
    const iterator = echo[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(Buffer.from(first.value).toString(), 'back');

    // The node ends the session: closed resolves, the channel ends, sends reject.
    socket.close(4410, 'terminated by alice');
    const ending = await session.closed;
    assert.deepEqual(ending, { code: 4410, reason: 'terminated by alice' });
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
    await assert.rejects(() => echo.send('late'), /channel echo closed/);
  });

  it('turns a close before the welcome into an error naming the code and the reason', async () => {
    for (const [code, reason, what] of [
      [4401, 'token expired', /refused the connect token \(close 4401 \(token expired\)\)/],
      [4409, 'already used', /already used \(close 4409 \(already used\)\)/],
      [4404, 'not here', /not connected to the signal node .* \(close 4404 \(not here\)\)/],
    ]) {
      const { client } = platform();
      const ws = fakeWebSocket((message, socket) => {
        if (message.type === 'hello') socket.close(code, reason);
      });
      const error = await client.connect('desk-1', { WebSocket: ws.FakeWebSocket }).catch((e) => e);
      assert.ok(error instanceof AirlockConnectError);
      assert.equal(error.closeCode, code);
      assert.match(error.message, what);
    }
  });

  it('times out a silent signal node, and refuses bad options', async () => {
    const { client } = platform();
    const ws = fakeWebSocket(() => {});
    const error = await client.connect('desk-1', { WebSocket: ws.FakeWebSocket, signalTimeoutMs: 30 }).catch((e) => e);
    assert.ok(error instanceof AirlockConnectError);
    assert.match(error.message, /no welcome from the signal node within 0 s|no welcome from the signal node within 0\.\d s/);
    assert.equal(ws.sockets[0].closedWith.code, 1000);
    await assert.rejects(() => client.connect('desk-1', { channels: [] }), /expected: at least one label/);
    await assert.rejects(() => client.connect('desk-1', { channels: ['a', 'a'] }), /expected: distinct labels/);
    await assert.rejects(() => client.connect('desk-1', { p2pTimeoutMs: 0 }), /expected: a positive number/);
    await assert.rejects(() => client.connect('desk-1'), /no WebSocket in this runtime/);
  });
});

describe('connect with video', () => {
  const script = (message, socket) => {
    if (message.type === 'hello') setTimeout(() => socket.receive(welcome));
    if (message.type === 'sdp') setTimeout(() => socket.receive(answer(FINGERPRINT)));
  };

  it('offers one recvonly video transceiver and resolves video with the remote stream', async () => {
    const { client } = platform();
    const ws = fakeWebSocket(script);
    const rtc = fakePeerConnection();
    const session = await client.connect('desk-1', {
      video: true,
      channels: ['control', 'input', 'clipboard'],
      WebSocket: ws.FakeWebSocket,
      RTCPeerConnection: rtc.FakeRTCPeerConnection,
    });
    const [peer] = rtc.peers;
    assert.deepEqual(peer.transceivers, [{ kind: 'video', direction: 'recvonly' }]);
    assert.deepEqual(peer.channels.map((c) => c.label), ['control', 'input', 'clipboard']);
    assert.ok(session.video instanceof Promise);
    peer.deliverTrack('audio', [{ id: 'not-this' }]); // only the video track counts
    peer.deliverTrack();
    assert.deepEqual(await session.video, { id: 'screen' });
    assert.deepEqual(await session.route(), { path: 'p2p', localCandidateType: 'srflx', remoteCandidateType: 'host', protocol: 'udp' });
    await session.close();
  });

  it('has no video without the option, and none through the relay', async () => {
    const { client } = platform();
    const plain = await client.connect('desk-1', {
      WebSocket: fakeWebSocket(script).FakeWebSocket,
      RTCPeerConnection: fakePeerConnection().FakeRTCPeerConnection,
    });
    assert.equal(plain.video, undefined);
    await plain.close();

    const rtc = fakePeerConnection({ connects: false });
    const relayed = await client.connect('desk-1', {
      video: true,
      p2pTimeoutMs: 50,
      WebSocket: fakeWebSocket(script).FakeWebSocket,
      RTCPeerConnection: rtc.FakeRTCPeerConnection,
    });
    assert.equal(relayed.path, 'relay');
    assert.equal(relayed.video, undefined);
    assert.equal(rtc.peers[0].transceivers.length, 1); // offered, but the relay took over
    assert.deepEqual(await relayed.route(), { path: 'relay' });
    await relayed.close();
  });

  it('rejects video when the session ends before the track, and ends the session when the peer fails', async () => {
    const { client } = platform();
    const ws = fakeWebSocket(script);
    const rtc = fakePeerConnection();
    const session = await client.connect('desk-1', { video: true, WebSocket: ws.FakeWebSocket, RTCPeerConnection: rtc.FakeRTCPeerConnection });
    rtc.peers[0].setState('failed');
    const ending = await session.closed;
    assert.equal(ending.code, 1000);
    assert.equal(ending.reason, 'peer connection failed');
    // The node sees no byte of a peer-to-peer session: the client reports its transport's.
    assert.deepEqual(ws.sockets[0].sent.at(-1), {
      type: 'session.close',
      sessionId: SESSION,
      reason: 'peer connection failed',
      bytesSent: 1234,
      bytesReceived: 567890,
    });
    await assert.rejects(session.video, (error) => error instanceof AirlockConnectError && /ended before the screen arrived \(close 1000\)/.test(error.message));
    assert.ok(rtc.peers[0].closed);
  });
});
