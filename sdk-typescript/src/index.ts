/**
 * The Airlock SDK: {@link AirlockClient} (login, token refresh, API keys) and
 * {@link AirlockProblemError} by hand, and {@link AirlockClient.connect} (remote sessions over
 * WebRTC or the signal node's relay, in browsers); the API classes and models are generated from the
 * OpenAPI contract and re-exported as they are.
 */
export { AirlockClient, type AirlockClientOptions, type AirlockSession } from './client.js';
export { AirlockProblemError, isAirlockProblem } from './problem.js';
export {
  RemoteSession,
  DEFAULT_CHANNELS,
  DEFAULT_P2P_TIMEOUT_MS,
  DEFAULT_SIGNAL_TIMEOUT_MS,
  PEER_FAILED_REASON,
  type ConnectOptions,
  type SessionRoute,
  type SessionEnding,
  type RTCPeerConnectionConstructor,
} from './connect/session.js';
export { MAX_MESSAGE, type Channel, type ChannelData } from './connect/channel.js';
export { AirlockConnectError, CloseCodes, refusal, verifyFingerprint } from './connect/errors.js';
export {
  decodeRelayFrame,
  encodeRelayFrame,
  MAX_FRAME,
  MAX_PAYLOAD,
  RELAY_FRAME_VERSION,
  RelayFrameError,
  type RelayFrame,
} from './connect/frame.js';
export { sdpFingerprint } from './connect/sdp.js';
export { SIGNAL_PROTOCOL_VERSION, SIGNAL_SUBPROTOCOL, type WebSocketConstructor } from './connect/signal-socket.js';
/** The signal protocol's messages, generated from openapi/signal.yaml. */
export type { SignalMessage } from './generated/signal/models/SignalMessage.js';
export type { MessageType } from './generated/signal/models/MessageType.js';
export type { SdpType } from './generated/signal/models/SdpType.js';
export type { IceServerConfig } from './generated/signal/models/IceServerConfig.js';
export * from './generated/index.js';
