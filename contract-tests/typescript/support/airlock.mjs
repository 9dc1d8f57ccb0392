// What every contract test needs: the platform's address and admin, unique names, users and
// roles made through the SDK, problem assertions, raw requests and audit look-ups.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

import { AirlockClient, AirlockProblemError } from '@airlock/sdk';

const baseUrl = process.env.AIRLOCK_BASE_URL;
if (!baseUrl) {
  // Fail at load: a run without a platform must not look green.
  throw new Error(
    'AIRLOCK_BASE_URL is not set (expected: the address of a running platform, e.g. http://127.0.0.1:8080, ' +
      'with AIRLOCK_ADMIN_USERNAME and AIRLOCK_ADMIN_PASSWORD). The Java contract-test harness sets them.',
  );
}

export const BASE_URL = baseUrl.replace(/\/+$/, '');
export const ADMIN_USERNAME = process.env.AIRLOCK_ADMIN_USERNAME || 'admin';
export const ADMIN_PASSWORD = process.env.AIRLOCK_ADMIN_PASSWORD ?? '';
if (!ADMIN_PASSWORD) {
  throw new Error("AIRLOCK_ADMIN_PASSWORD is not set (expected: the admin's current password).");
}

export const PROBLEM = Object.freeze({
  malformedRequest: 'urn:airlock:problem:malformed-request',
  unknownProperty: 'urn:airlock:problem:unknown-property',
  validation: 'urn:airlock:problem:validation',
  payloadTooLarge: 'urn:airlock:problem:payload-too-large',
  unauthenticated: 'urn:airlock:problem:unauthenticated',
  invalidCredentials: 'urn:airlock:problem:invalid-credentials',
  accountLocked: 'urn:airlock:problem:account-locked',
  passwordChangeRequired: 'urn:airlock:problem:password-change-required',
  forbidden: 'urn:airlock:problem:forbidden',
  notFound: 'urn:airlock:problem:not-found',
});

/** A name no other run uses: lower-case, valid as a username and as a role name. */
export function uniqueName(prefix) {
  return `ct-${prefix}-${randomBytes(5).toString('hex')}`;
}

export function newPassword() {
  return `pw-${randomBytes(12).toString('hex')}`;
}

/** A client with no credentials. */
export function anonymous() {
  return new AirlockClient(BASE_URL);
}

export async function loginAsAdmin() {
  const client = anonymous();
  await client.login(ADMIN_USERNAME, ADMIN_PASSWORD);
  return client;
}

/** A rule for RoleCreate.rules; the generated model holds resources and verbs as Sets. */
export function rule(effect, resources, verbs) {
  return { effect, resources: [...resources], verbs: [...verbs] };
}

/** Creates a uniquely named role with the given rules; returns its name. */
export async function createRole(admin, rules, prefix = 'role') {
  const role = await admin.roles.createRole({ roleCreate: { name: uniqueName(prefix), rules } });
  return role.name;
}

/**
 * Creates a uniquely named user holding `roles`; returns { user, username, password, client }
 * where client is logged in as that user (unless login: false).
 */
export async function createUser(admin, roles = [], { prefix = 'user', login = true, ...extra } = {}) {
  const username = uniqueName(prefix);
  const password = newPassword();
  const user = await admin.users.createUser({
    userCreate: { username, password, roles: [...roles], ...extra },
  });
  const client = anonymous();
  if (login) {
    await client.login(username, password);
  }
  return { user, username, password, client };
}

/**
 * Asserts the error is an Airlock problem a user would recognise, and returns it. `status` and
 * `type` may each be a list of acceptable values.
 */
export function assertProblem(error, status, type) {
  assert.ok(error instanceof AirlockProblemError, `expected an AirlockProblemError, got: ${error?.stack ?? error}`);
  const statuses = Array.isArray(status) ? status : [status];
  assert.ok(statuses.includes(error.status), `status (expected: ${statuses.join(' or ')}) of ${error.message}`);
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    assert.ok(types.includes(error.type), `type ${error.type} (expected: ${types.join(' or ')}) in ${error.message}`);
  }
  assert.match(error.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(error.problem.status, error.status, 'the problem document repeats the HTTP status');
  assert.ok(error.title, 'the problem has a title');
  assertNoStackTrace(JSON.stringify(error.body));
  return error;
}

/** Runs `call`, which must reject with the given problem; returns the error. */
export async function expectProblem(call, status, type) {
  let error;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected ${status} ${type ?? ''} but the call succeeded`);
  return assertProblem(error, status, type);
}

/** A 401 must say how to authenticate. */
export function assertUnauthenticated(error) {
  assertProblem(error, 401, PROBLEM.unauthenticated);
  assert.match(error.headers.get('www-authenticate') ?? '', /^Bearer/i, 'WWW-Authenticate names the Bearer scheme');
  return error;
}

export function assertNoStackTrace(text) {
  assert.doesNotMatch(text ?? '', /at dev\.|Exception|\tat /, `the response leaks a stack trace: ${text}`);
}

/**
 * A raw request, for what the SDK cannot send (malformed JSON, unknown properties, bad ids).
 * `body` is sent as is when it is a string, else as JSON. Returns { status, headers, text, json }.
 */
export async function rawRequest(method, path, { token, body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json, application/problem+json', ...headers } };
  if (token) {
    init.headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    init.headers['Content-Type'] ??= 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(`${BASE_URL}${path}`, init);
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Asserts a raw response is the expected problem: status, type, media type, no 5xx or stack. */
export function assertProblemResponse(response, status, type, what = '') {
  const label = `${what} -> ${response.status} ${response.text.slice(0, 300)}`;
  assert.ok(response.status < 500, `never a 5xx: ${label}`);
  assert.equal(response.status, status, label);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/, `media type: ${label}`);
  assert.ok(response.json && typeof response.json === 'object', `a JSON problem document: ${label}`);
  if (type !== undefined) {
    const types = Array.isArray(type) ? type : [type];
    assert.ok(types.includes(response.json.type), `type (expected: ${types.join(' or ')}): ${label}`);
  }
  assert.equal(response.json.status, status, `problem status: ${label}`);
  assertNoStackTrace(response.text);
}

/**
 * Finds the newest audit event matching `query` (listAuditEvents parameters) and `predicate`,
 * polling briefly in case the platform writes its audit log after answering.
 */
export async function findAuditEvent(admin, query, predicate = () => true, { timeoutMs = 5000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let cursor;
    for (let page = 0; page < 10; page += 1) {
      const result = await admin.audit.listAuditEvents({ ...query, limit: 100, cursor });
      const match = result.items.find(predicate);
      if (match) {
        return match;
      }
      cursor = result.nextCursor;
      if (!cursor) {
        break;
      }
    }
    if (Date.now() >= deadline) {
      assert.fail(`no audit event matches ${JSON.stringify(query)} and ${predicate}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every audit event matching `query` and `predicate` (at most 10 pages of 100). */
export async function auditEvents(admin, query, predicate = () => true) {
  const found = [];
  let cursor;
  for (let page = 0; page < 10; page += 1) {
    const result = await admin.audit.listAuditEvents({ ...query, limit: 100, cursor });
    found.push(...result.items.filter(predicate));
    cursor = result.nextCursor;
    if (!cursor) {
      break;
    }
  }
  return found;
}

/**
 * Whether an audit event is about `user` ({ user, username }): as its actor, or as its target
 * (an unauthenticated attempt may be recorded either way).
 */
export function mentions(event, { user, username }) {
  return [event.actor, event.actorId, event.target].some((value) => value === username || value === user.id);
}

/** A moment safely before the next request, for the audit query's `from`. */
export function aMomentAgo() {
  return new Date(Date.now() - 2000);
}
