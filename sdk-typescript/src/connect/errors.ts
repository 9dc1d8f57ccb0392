import { sdpFingerprint } from './sdp.js';

/** The WebSocket close codes of the signal protocol (`x-airlock-close-codes` in `openapi/signal.yaml`). */
export const CloseCodes = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  TOO_BIG: 1009,
  PROTOCOL_ERROR: 4000,
  HELLO_TIMEOUT: 4001,
  RATE_LIMITED: 4008,
  TOO_MANY_SESSIONS: 4029,
  UNAUTHENTICATED: 4401,
  AGENT_REVOKED: 4403,
  AGENT_NOT_HERE: 4404,
  TOKEN_REPLAYED: 4409,
  SESSION_TERMINATED: 4410,
} as const;

/**
 * A remote session could not be opened or was refused: the signal node closed the connection
 * with {@link closeCode} (0 when the failure was not a close, e.g. a timeout or a DTLS
 * fingerprint mismatch). The message says what was wrong and what to do.
 */
export class AirlockConnectError extends Error {
  override readonly name = 'AirlockConnectError';
  /** The WebSocket close code that ended the attempt, or 0. */
  readonly closeCode: number;

  constructor(message: string, closeCode = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.closeCode = closeCode;
  }
}

/** The error for a signal socket the node closed (with `code` and `reason`) before the session was up. */
export function refusal(code: number, reason: string): AirlockConnectError {
  let what: string;
  switch (code) {
    case CloseCodes.UNAUTHENTICATED:
      what = 'the signal node refused the connect token';
      break;
    case CloseCodes.AGENT_NOT_HERE:
      what = 'the agent is not connected to the signal node that the platform named';
      break;
    case CloseCodes.TOKEN_REPLAYED:
      what = 'the connect token was already used';
      break;
    case CloseCodes.SESSION_TERMINATED:
      what = 'the platform terminated the session';
      break;
    case CloseCodes.TOO_MANY_SESSIONS:
      what = 'the agent has too many sessions';
      break;
    default:
      what = 'the signal node closed the connection';
  }
  return new AirlockConnectError(`${what} (close ${code}${reason ? ` (${reason})` : ''})`, code);
}

/**
 * The pinning check: the agent's SDP answer must carry the DTLS fingerprint the platform
 * returned for it (over the API's TLS, not through signal). Throws {@link AirlockConnectError}
 * (close code 0) when the fingerprint is missing or differs.
 */
export function verifyFingerprint(expected: string | undefined, answerSdp: string | undefined): void {
  let answered: string;
  try {
    answered = sdpFingerprint(answerSdp);
  } catch (error) {
    throw new AirlockConnectError(
      `DTLS fingerprint missing from the agent's answer (${(error as Error).message}); expected ${expected}`,
    );
  }
  if (expected === undefined || expected.toLowerCase() !== answered.toLowerCase()) {
    throw new AirlockConnectError(
      `DTLS fingerprint mismatch: the agent registered ${expected} but answered with ${answered}; ` +
        'the SDP was tampered with or the agent is not the enrolled one',
    );
  }
}
