// Unit tests of the hand-written layer against a scripted fetch (no platform needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AirlockClient, AirlockProblemError, isAirlockProblem } from '../dist/index.js';

const BASE = 'http://airlock.test';

/** A fake platform: issues numbered token pairs, accepts only the newest access token. */
function fakePlatform({ expiresIn = 900 } = {}) {
  const state = { pairs: 0, valid: new Set(), refreshes: 0, requests: [] };
  const pair = () => {
    state.pairs += 1;
    const n = state.pairs;
    state.valid = new Set([`access-${n}`]);
    state.refresh = `refresh-${n}`;
    return json(200, {
      accessToken: `access-${n}`,
      refreshToken: `refresh-${n}`,
      tokenType: 'Bearer',
      expiresIn,
      refreshExpiresIn: 3600,
      passwordChangeRequired: false,
    });
  };
  const fetch = async (url, init = {}) => {
    const path = new URL(url).pathname;
    const headers = new Headers(init.headers);
    state.requests.push({ path, method: init.method, authorization: headers.get('authorization') });
    if (path === '/api/v1/auth/login') {
      const body = JSON.parse(init.body);
      return body.password === 'right-password-123' ? pair() : problem(401, 'invalid-credentials');
    }
    if (path === '/api/v1/auth/refresh') {
      state.refreshes += 1;
      const body = JSON.parse(init.body);
      return body.refreshToken === state.refresh ? pair() : problem(401, 'unauthenticated');
    }
    if (path === '/api/v1/auth/logout') {
      state.valid.clear();
      return new Response(null, { status: 204 });
    }
    const bearer = headers.get('authorization')?.replace(/^Bearer /, '');
    if (bearer === 'alk_good' || state.valid.has(bearer)) {
      return json(200, { items: [] });
    }
    return problem(401, 'unauthenticated', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  };
  return { state, fetch };
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

function problem(status, kind, headers = {}) {
  return new Response(
    JSON.stringify({ type: `urn:airlock:problem:${kind}`, title: kind, status, detail: `because ${kind}` }),
    { status, headers: { 'Content-Type': 'application/problem+json', ...headers } },
  );
}

describe('AirlockProblemError', () => {
  it('carries the problem document and the headers of a non-2xx response', async () => {
    const fetch = async () =>
      new Response(
        JSON.stringify({
          type: 'urn:airlock:problem:account-locked',
          title: 'Account locked',
          status: 429,
          detail: 'retry in 30 s',
          errors: [{ field: 'username', message: 'locked' }],
        }),
        { status: 429, headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '30' } },
      );
    const client = new AirlockClient({ baseUrl: `${BASE}/`, fetch });
    const error = await client.login('alice', 'whatever').catch((e) => e);
    assert.ok(error instanceof AirlockProblemError);
    assert.ok(isAirlockProblem(error, 'urn:airlock:problem:account-locked'));
    assert.equal(error.status, 429);
    assert.equal(error.title, 'Account locked');
    assert.equal(error.detail, 'retry in 30 s');
    assert.deepEqual(error.errors, [{ field: 'username', message: 'locked' }]);
    assert.equal(error.retryAfterSeconds, 30);
    assert.match(error.message, /429 Account locked: retry in 30 s/);
    assert.equal(client.session, undefined);
  });

  it('synthesises about:blank when the body is not a problem document', async () => {
    const fetch = async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' });
    const error = await new AirlockClient({ baseUrl: BASE, fetch }).health.getHealth().catch((e) => e);
    assert.ok(error instanceof AirlockProblemError);
    assert.equal(error.type, 'about:blank');
    assert.equal(error.status, 502);
    assert.equal(error.title, 'Bad Gateway');
    assert.equal(error.body, '<html>bad gateway</html>');
    assert.deepEqual(error.errors, []);
  });
});

describe('AirlockClient', () => {
  it('sends the access token after login, and does not refresh it early', async () => {
    const platform = fakePlatform();
    const client = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch });
    const pair = await client.login('alice', 'right-password-123');
    assert.equal(pair.accessToken, 'access-1');
    assert.equal(client.session?.refreshToken, 'refresh-1');
    await client.users.listUsers();
    await client.users.listUsers();
    assert.equal(platform.state.requests.at(-1).authorization, 'Bearer access-1');
    assert.equal(platform.state.refreshes, 0);
  });

  it('resumes a stored session', async () => {
    const platform = fakePlatform();
    const first = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch });
    await first.login('alice', 'right-password-123');
    const resumed = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch, session: first.session });
    await resumed.users.listUsers();
    assert.equal(platform.state.requests.at(-1).authorization, 'Bearer access-1');
  });

  it('sends no credentials before login, and login carries none', async () => {
    const platform = fakePlatform();
    const client = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch });
    const error = await client.users.listUsers().catch((e) => e);
    assert.equal(error.type, 'urn:airlock:problem:unauthenticated');
    assert.equal(error.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
    assert.equal(platform.state.requests.at(-1).authorization, null);
    await client.login('alice', 'right-password-123');
    assert.equal(platform.state.requests.at(-1).authorization, null);
  });

  it('refreshes once on a 401 and retries, sharing the refresh between concurrent calls', async () => {
    const platform = fakePlatform();
    const sessions = [];
    const client = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch, onSessionChange: (s) => sessions.push(s) });
    await client.login('alice', 'right-password-123');
    platform.state.valid.clear(); // the platform forgets the access token (e.g. key rotation)

    const pages = await Promise.all([client.users.listUsers(), client.roles.listRoles(), client.audit.listAuditEvents()]);
    assert.equal(pages.length, 3);
    assert.equal(platform.state.refreshes, 1);
    assert.equal(client.session?.accessToken, 'access-2');
    assert.deepEqual(sessions.map((s) => s?.accessToken), ['access-1', 'access-2']);
  });

  it('refreshes before sending when the access token is about to expire', async () => {
    const platform = fakePlatform({ expiresIn: 1 });
    const client = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch });
    await client.login('alice', 'right-password-123');
    await new Promise((resolve) => setTimeout(resolve, 600)); // past half its lifetime
    await client.users.listUsers();
    assert.equal(platform.state.refreshes, 1);
    const paths = platform.state.requests.map((r) => r.path);
    assert.deepEqual(paths, ['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/users']);
    assert.equal(platform.state.requests.at(-1).authorization, 'Bearer access-2');
  });

  it('gives up after one retry and forgets a session whose refresh is refused', async () => {
    const platform = fakePlatform();
    const client = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch });
    await client.login('alice', 'right-password-123');
    platform.state.valid.clear();
    platform.state.refresh = 'stolen';
    const error = await client.users.listUsers().catch((e) => e);
    assert.equal(error.status, 401);
    assert.equal(error.type, 'urn:airlock:problem:unauthenticated');
    assert.equal(client.session, undefined);
    assert.equal(platform.state.refreshes, 1);
  });

  it('authenticates with an API key and never refreshes it', async () => {
    const platform = fakePlatform();
    const client = new AirlockClient(BASE).withApiKey('alk_good');
    const keyClient = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch }).withApiKey('alk_good');
    await keyClient.users.listUsers();
    assert.equal(platform.state.requests.at(-1).authorization, 'Bearer alk_good');
    const error = await new AirlockClient({ baseUrl: BASE, fetch: platform.fetch })
      .withApiKey('alk_revoked')
      .users.listUsers()
      .catch((e) => e);
    assert.equal(error.status, 401);
    assert.equal(platform.state.refreshes, 0);
    await assert.rejects(() => client.login('a', 'b'), /not available/);
    assert.throws(() => new AirlockClient({ baseUrl: BASE, apiKey: 'alk_x', accessToken: 'y' }), /at most one/);
  });

  it('logs out: the session is gone and no token is sent', async () => {
    const platform = fakePlatform();
    const client = new AirlockClient({ baseUrl: BASE, fetch: platform.fetch });
    await client.login('alice', 'right-password-123');
    await client.logout();
    assert.equal(client.session, undefined);
    await assert.rejects(() => client.users.listUsers(), (e) => e.status === 401);
    assert.equal(platform.state.requests.at(-1).authorization, null);
  });

  it('refuses an empty base URL or token with a message saying what was expected', () => {
    assert.throws(() => new AirlockClient(''), /expected: the platform address/);
    assert.throws(() => new AirlockClient(BASE).withApiKey(''), /expected: a non-empty token/);
  });
});
