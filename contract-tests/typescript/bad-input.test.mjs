// Every operation that takes a body or parameters, fed what no SDK would send.
import { before, describe, it } from 'node:test';

import {
  PROBLEM,
  assertProblemResponse,
  createRole,
  createUser,
  loginAsAdmin,
  newPassword,
  rawRequest,
  uniqueName,
} from './support/airlock.mjs';

const BAD_VALUE = [PROBLEM.validation, PROBLEM.malformedRequest];
const OVER_64_KIB = 'x'.repeat(64 * 1024 + 1);
const NOT_A_UUID = 'not-a-uuid';

const fixture = {};

before(async () => {
  fixture.admin = await loginAsAdmin();
  fixture.adminToken = fixture.admin.session.accessToken;
  // changePassword acts on the caller: use a throwaway user, never the admin.
  const ivan = await createUser(fixture.admin, [], { prefix: 'ivan' });
  fixture.user = ivan.user;
  fixture.userToken = ivan.client.session.accessToken;
  fixture.role = await createRole(fixture.admin, [], 'bad-input');
});

/**
 * Each operation with a body: how to call it, a valid body, and a string property to abuse.
 * Bodies are built lazily so that names are unique and the fixture exists.
 */
const BODY_OPERATIONS = [
  {
    operation: 'login',
    method: 'POST',
    path: () => '/api/v1/auth/login',
    token: () => undefined,
    body: () => ({ username: uniqueName('nobody'), password: newPassword() }),
    stringProperty: 'password',
  },
  {
    operation: 'refresh',
    method: 'POST',
    path: () => '/api/v1/auth/refresh',
    token: () => undefined,
    body: () => ({ refreshToken: 'not-a-refresh-token' }),
    stringProperty: 'refreshToken',
  },
  {
    operation: 'changePassword',
    method: 'PUT',
    path: () => '/api/v1/auth/password',
    token: () => fixture.userToken,
    body: () => ({ currentPassword: 'not-the-current-one', newPassword: newPassword() }),
    stringProperty: 'newPassword',
  },
  {
    operation: 'createUser',
    method: 'POST',
    path: () => '/api/v1/users',
    token: () => fixture.adminToken,
    body: () => ({ username: uniqueName('never'), password: newPassword() }),
    stringProperty: 'displayName',
  },
  {
    operation: 'updateUser',
    method: 'PATCH',
    path: () => `/api/v1/users/${fixture.user.id}`,
    token: () => fixture.adminToken,
    body: () => ({ displayName: 'Ivan' }),
    stringProperty: 'displayName',
  },
  {
    operation: 'createRole',
    method: 'POST',
    path: () => '/api/v1/roles',
    token: () => fixture.adminToken,
    body: () => ({ name: uniqueName('never'), rules: [] }),
    stringProperty: 'description',
  },
  {
    operation: 'replaceRole',
    method: 'PUT',
    path: () => `/api/v1/roles/${fixture.role}`,
    token: () => fixture.adminToken,
    body: () => ({ description: 'replaced', rules: [] }),
    stringProperty: 'description',
  },
  {
    operation: 'createApiKey',
    method: 'POST',
    path: () => '/api/v1/api-keys',
    token: () => fixture.adminToken,
    body: () => ({ name: 'never', roles: ['admin'], ttlDays: 1 }),
    stringProperty: 'name',
  },
];

const BODY_CASES = [
  {
    name: 'malformed JSON',
    body: () => '{"oops": ',
    status: 400,
    type: PROBLEM.malformedRequest,
  },
  {
    name: 'an unknown property',
    body: (op) => ({ ...op.body(), notInTheSchema: true }),
    status: 400,
    type: PROBLEM.unknownProperty,
  },
  {
    name: 'a number where a string belongs',
    body: (op) => ({ ...op.body(), [op.stringProperty]: 42 }),
    status: 400,
    type: BAD_VALUE,
  },
  {
    name: 'an array instead of an object',
    body: (op) => [op.body()],
    status: 400,
    type: BAD_VALUE,
  },
  {
    name: 'an empty body',
    body: () => '',
    status: 400,
    type: BAD_VALUE,
  },
  {
    name: 'a body over 64 KiB',
    body: (op) => ({ ...op.body(), [op.stringProperty]: OVER_64_KIB }),
    status: 413,
    type: PROBLEM.payloadTooLarge,
  },
  {
    name: 'a body that is not JSON',
    body: () => 'username=admin',
    contentType: 'text/plain',
    status: 415,
    type: 'urn:airlock:problem:unsupported-media-type',
  },
];

describe('bad request bodies', () => {
  for (const op of BODY_OPERATIONS) {
    describe(op.operation, () => {
      for (const badCase of BODY_CASES) {
        it(`${badCase.name} -> ${badCase.status}`, async () => {
          const headers = badCase.contentType ? { 'Content-Type': badCase.contentType } : {};
          const response = await rawRequest(op.method, op.path(), {
            token: op.token(),
            body: badCase.body(op),
            headers,
          });
          assertProblemResponse(response, badCase.status, badCase.type, `${op.method} ${op.path()} with ${badCase.name}`);
        });
      }
    });
  }
});

describe('bad path parameters', () => {
  const cases = [
    ['GET', `/api/v1/users/${NOT_A_UUID}`],
    ['PATCH', `/api/v1/users/${NOT_A_UUID}`, { displayName: 'x' }],
    ['DELETE', `/api/v1/users/${NOT_A_UUID}`],
    ['GET', `/api/v1/api-keys/${NOT_A_UUID}`],
    ['DELETE', `/api/v1/api-keys/${NOT_A_UUID}`],
    ['GET', '/api/v1/roles/Not%20A%20Role%21'],
    ['PUT', '/api/v1/roles/Not%20A%20Role%21', { rules: [] }],
    ['DELETE', '/api/v1/roles/Not%20A%20Role%21'],
  ];
  for (const [method, path, body] of cases) {
    it(`${method} ${path} -> 400`, async () => {
      const response = await rawRequest(method, path, { token: fixture.adminToken, body });
      assertProblemResponse(response, 400, BAD_VALUE, `${method} ${path}`);
    });
  }
});

describe('bad query parameters', () => {
  const cases = [
    '/api/v1/users?limit=0',
    '/api/v1/users?limit=501',
    '/api/v1/users?limit=ten',
    '/api/v1/users?cursor=%21%21%21',
    '/api/v1/roles?limit=-1',
    `/api/v1/api-keys?owner=${NOT_A_UUID}`,
    '/api/v1/api-keys?limit=0',
    '/api/v1/audit/events?outcome=maybe',
    '/api/v1/audit/events?from=yesterday',
    '/api/v1/audit/events?limit=100000',
    `/api/v1/audit/events?action=${'a'.repeat(65)}`,
  ];
  for (const path of cases) {
    it(`GET ${path.slice(0, 60)} -> 400`, async () => {
      const response = await rawRequest('GET', path, { token: fixture.adminToken });
      assertProblemResponse(response, 400, BAD_VALUE, `GET ${path}`);
    });
  }
});

describe('routes that do not exist', () => {
  it('an unknown path -> 404 route-not-found', async () => {
    const response = await rawRequest('GET', '/api/v1/no-such-thing', { token: fixture.adminToken });
    assertProblemResponse(response, 404, 'urn:airlock:problem:route-not-found', 'GET /api/v1/no-such-thing');
  });

  it('a known path with the wrong method -> 405 method-not-allowed', async () => {
    const response = await rawRequest('DELETE', '/api/v1/health', { token: fixture.adminToken });
    assertProblemResponse(response, 405, 'urn:airlock:problem:method-not-allowed', 'DELETE /api/v1/health');
  });
});
