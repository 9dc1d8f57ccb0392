import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';

import {
  aMomentAgo,
  anonymous,
  assertUnauthenticated,
  createUser,
  findAuditEvent,
  loginAsAdmin,
  rawRequest,
} from './support/airlock.mjs';

const b64url = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** Presents `token` to GET /auth/me: it must be refused with 401, and the refusal audited. */
async function assertRefusedAndAudited(admin, token) {
  const from = aMomentAgo();
  const error = await anonymous().withAccessToken(token).auth.getMe().catch((e) => e);
  assertUnauthenticated(error);
  await findAuditEvent(admin, { action: 'auth.token', outcome: 'denied', from });
  return error;
}

describe('tokens', () => {
  it('refuses a JWT with a forged signature', async () => {
    const admin = await loginAsAdmin();
    const [header, payload] = admin.session.accessToken.split('.');
    await assertRefusedAndAudited(admin, `${header}.${payload}.${randomBytes(64).toString('base64url')}`);
  });

  it('refuses a JWT whose claims were changed after signing', async () => {
    const admin = await loginAsAdmin();
    const user = await createUser(admin, [], { prefix: 'mallory' });
    const [header, payload, signature] = user.client.session.accessToken.split('.');
    const claims = decode(payload);
    const escalated = { ...claims, sub: (await admin.auth.getMe()).user.id, exp: claims.exp + 3600 };
    await assertRefusedAndAudited(admin, `${header}.${b64url(escalated)}.${signature}`);
  });

  it('refuses an unsigned JWT (alg: none)', async () => {
    const admin = await loginAsAdmin();
    const [header, payload] = admin.session.accessToken.split('.');
    const none = { ...decode(header), alg: 'none' };
    await assertRefusedAndAudited(admin, `${b64url(none)}.${payload}.`);
  });

  it('refuses a garbage bearer, a fake API key, and no credentials at all', async () => {
    const admin = await loginAsAdmin();
    await assertRefusedAndAudited(admin, 'not-a-token');
    await assertRefusedAndAudited(admin, `alk_${randomBytes(24).toString('hex')}`);
    assertUnauthenticated(await anonymous().users.listUsers().catch((e) => e));
    const raw = await rawRequest('GET', '/api/v1/auth/me', { headers: { Authorization: 'Basic YWRtaW46YWRtaW4=' } });
    assert.equal(raw.status, 401);
    assert.match(raw.headers.get('www-authenticate') ?? '', /^Bearer/i);
  });

  it('refuses the access token of a session that logged out', async () => {
    const admin = await loginAsAdmin();
    const frank = await createUser(admin, [], { prefix: 'frank' });
    const { accessToken, refreshToken } = frank.client.session;
    await frank.client.auth.getMe();
    await frank.client.logout();
    assert.equal(frank.client.session, undefined);

    await assertRefusedAndAudited(admin, accessToken);
    assertUnauthenticated(
      await anonymous()
        .auth.refresh({ refreshRequest: { refreshToken } })
        .catch((e) => e),
    );
  });

  it('refresh rotates the pair: the new one works, the old refresh token does not', async () => {
    const admin = await loginAsAdmin();
    const grace = await createUser(admin, [], { prefix: 'grace' });
    const before = grace.client.session;
    const after = await grace.client.refresh();
    assert.notEqual(after.accessToken, before.accessToken);
    assert.notEqual(after.refreshToken, before.refreshToken);
    const me = await grace.client.auth.getMe();
    assert.equal(me.user.id, grace.user.id);

    assertUnauthenticated(
      await anonymous()
        .auth.refresh({ refreshRequest: { refreshToken: before.refreshToken } })
        .catch((e) => e),
    );
  });

  it('reusing a rotated refresh token revokes the whole session, and is audited', async () => {
    const admin = await loginAsAdmin();
    const heidi = await createUser(admin, [], { prefix: 'heidi' });
    const stolen = heidi.client.session.refreshToken;
    const current = await heidi.client.refresh();

    const from = aMomentAgo();
    assertUnauthenticated(
      await anonymous()
        .auth.refresh({ refreshRequest: { refreshToken: stolen } })
        .catch((e) => e),
    );
    // The whole session is gone: the newest access and refresh tokens stop working too.
    assertUnauthenticated(await anonymous().withAccessToken(current.accessToken).auth.getMe().catch((e) => e));
    assertUnauthenticated(
      await anonymous()
        .auth.refresh({ refreshRequest: { refreshToken: current.refreshToken } })
        .catch((e) => e),
    );
    await findAuditEvent(admin, { action: 'auth.refresh', outcome: 'denied', from });

    // Another login still works.
    const again = anonymous();
    await again.login(heidi.username, heidi.password);
    assert.equal((await again.auth.getMe()).user.id, heidi.user.id);
  });
});
