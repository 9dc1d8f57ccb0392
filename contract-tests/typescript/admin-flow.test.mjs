import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  PROBLEM,
  aMomentAgo,
  assertUnauthenticated,
  createRole,
  createUser,
  expectProblem,
  findAuditEvent,
  loginAsAdmin,
  newPassword,
  rule,
  uniqueName,
} from './support/airlock.mjs';

describe('administration through the SDK', () => {
  it('a user whose role allows user:list,read can list users but not create one', async () => {
    const admin = await loginAsAdmin();
    const me = await admin.auth.getMe();
    assert.equal(me.authMethod, 'password');

    const reader = await createRole(admin, [rule('allow', ['user'], ['list', 'read'])], 'reader');
    const alice = await createUser(admin, [reader], { prefix: 'alice' });
    assert.deepEqual(alice.user.roles, [reader]);
    assert.equal(alice.user.disabled, false);

    const page = await alice.client.users.listUsers({ limit: 500 });
    assert.ok(page.items.length >= 2, 'sees the admin and herself');
    const mine = await alice.client.users.getUser({ userId: alice.user.id });
    assert.equal(mine.username, alice.username);

    await expectProblem(
      () =>
        alice.client.users.createUser({
          userCreate: { username: uniqueName('nope'), password: newPassword() },
        }),
      403,
      PROBLEM.forbidden,
    );
  });

  it('an API key is shown once, acts as its owner, and stops working when revoked', async () => {
    const admin = await loginAsAdmin();
    const keyMaker = await createRole(admin, [rule('allow', ['api_key'], ['create'])], 'keymaker');
    const bob = await createUser(admin, [keyMaker], { prefix: 'bob' });

    const created = await bob.client.apiKeys.createApiKey({
      apiKeyCreate: { name: 'ci', roles: [keyMaker], ttlDays: 1 },
    });
    assert.ok(created.secret.startsWith('alk_'), `the secret is an alk_ key: ${created.prefix}…`);
    assert.ok(created.secret.startsWith(created.prefix), 'the prefix recognises the secret');
    assert.equal(created.ownerId, bob.user.id);
    assert.equal(created.revoked, false);
    assert.deepEqual(created.roles, [keyMaker]);
    assert.ok(created.expiresAt > new Date(), 'expires in the future');

    // Shown once: the key read back, or listed, carries no secret (read raw, as the SDK's
    // models would drop an unexpected property silently).
    const readBack = await bob.client.apiKeys.getApiKeyRaw({ keyId: created.id });
    const readText = await readBack.raw.text();
    assert.equal(JSON.parse(readText).secret, undefined);
    assert.ok(!readText.includes(created.secret), 'the secret never comes back');
    const listed = await bob.client.apiKeys.listApiKeysRaw({});
    const listText = await listed.raw.text();
    assert.ok(JSON.parse(listText).items.some((key) => key.id === created.id));
    assert.ok(!listText.includes(created.secret), 'the secret never comes back in a list');

    const viaKey = bob.client.withApiKey(created.secret);
    const me = await viaKey.auth.getMe();
    assert.equal(me.authMethod, 'api_key');
    assert.equal(me.apiKeyId, created.id);
    assert.equal(me.user.id, bob.user.id);

    const from = aMomentAgo();
    await bob.client.apiKeys.revokeApiKey({ keyId: created.id });
    assertUnauthenticated(await viaKey.auth.getMe().catch((e) => e));
    const revoked = await bob.client.apiKeys.getApiKey({ keyId: created.id });
    assert.equal(revoked.revoked, true);

    await findAuditEvent(admin, { action: 'api_key.revoke', outcome: 'success', actor: bob.username, from });
  });
});
