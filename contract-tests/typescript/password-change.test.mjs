import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  PROBLEM,
  anonymous,
  createRole,
  createUser,
  expectProblem,
  loginAsAdmin,
  newPassword,
  rule,
} from './support/airlock.mjs';

describe('first-login password change', () => {
  it('allows nothing but a password change until the one-time password is replaced', async () => {
    const admin = await loginAsAdmin();
    const lister = await createRole(admin, [rule('allow', ['user'], ['list'])], 'lister');
    const mia = await createUser(admin, [lister], { prefix: 'mia', login: false, passwordChangeRequired: true });

    const client = anonymous();
    const pair = await client.login(mia.username, mia.password);
    assert.equal(pair.passwordChangeRequired, true);
    const me = await client.auth.getMe();
    assert.equal(me.passwordChangeRequired, true);
    await expectProblem(() => client.users.listUsers(), 403, PROBLEM.passwordChangeRequired);

    const chosen = newPassword();
    await client.auth.changePassword({ passwordChange: { currentPassword: mia.password, newPassword: chosen } });

    await expectProblem(() => anonymous().login(mia.username, mia.password), 401, PROBLEM.invalidCredentials);
    const again = anonymous();
    const fresh = await again.login(mia.username, chosen);
    assert.equal(fresh.passwordChangeRequired, false);
    const page = await again.users.listUsers();
    assert.ok(page.items.length >= 1);
  });
});
