/**
 * The Airlock SDK: {@link AirlockClient} (login, token refresh, API keys) and
 * {@link AirlockProblemError} by hand; the API classes and models are generated from the
 * OpenAPI contract and re-exported as they are.
 */
export { AirlockClient, type AirlockClientOptions, type AirlockSession } from './client.js';
export { AirlockProblemError, isAirlockProblem } from './problem.js';
export * from './generated/index.js';
