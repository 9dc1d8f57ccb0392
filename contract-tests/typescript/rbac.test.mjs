import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { PROBLEM, createRole, createUser, expectProblem, loginAsAdmin, rule } from './support/airlock.mjs';

describe('authorisation', () => {
  it('a matching deny wins over allow * *', async () => {
    const admin = await loginAsAdmin();
    const almostAdmin = await createRole(
      admin,
      [rule('allow', ['*'], ['*']), rule('deny', ['user'], ['delete'])],
      'almost-admin',
    );
    const carol = await createUser(admin, [almostAdmin], { prefix: 'carol' });
    const victim = await createUser(admin, [], { prefix: 'victim', login: false });

    // The allow works...
    await carol.client.users.getUser({ userId: victim.user.id });
    // ...but the deny wins, and the user is still there.
    await expectProblem(() => carol.client.users.deleteUser({ userId: victim.user.id }), 403, PROBLEM.forbidden);
    const still = await admin.users.getUser({ userId: victim.user.id });
    assert.equal(still.username, victim.username);
  });

  it("a user can neither read nor revoke another user's API key, nor read that user", async () => {
    const admin = await loginAsAdmin();
    const keyMaker = await createRole(admin, [rule('allow', ['api_key'], ['create'])], 'keymaker');
    const dave = await createUser(admin, [keyMaker], { prefix: 'dave' });
    const erin = await createUser(admin, [keyMaker], { prefix: 'erin' });
    const erinsKey = await erin.client.apiKeys.createApiKey({
      apiKeyCreate: { name: 'erins', roles: [keyMaker], ttlDays: 1 },
    });

    // Either answer is fine: 404 does not even confirm that the key exists.
    const hidden = [PROBLEM.forbidden, PROBLEM.notFound];
    await expectProblem(() => dave.client.apiKeys.getApiKey({ keyId: erinsKey.id }), [403, 404], hidden);
    await expectProblem(() => dave.client.apiKeys.revokeApiKey({ keyId: erinsKey.id }), [403, 404], hidden);

    // Erin's key is untouched and still works.
    const me = await erin.client.withApiKey(erinsKey.secret).auth.getMe();
    assert.equal(me.user.id, erin.user.id);

    await expectProblem(() => dave.client.apiKeys.listApiKeys({ owner: erin.user.id }), 403, PROBLEM.forbidden);
    // Another user's record is not visible at all: 404, so nobody can probe which ids exist.
    await expectProblem(() => dave.client.users.getUser({ userId: erin.user.id }), 404, PROBLEM.notFound);
    // Reading oneself needs no rule.
    const self = await dave.client.users.getUser({ userId: dave.user.id });
    assert.equal(self.username, dave.username);
  });
});
