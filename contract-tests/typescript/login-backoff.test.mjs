import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  PROBLEM,
  aMomentAgo,
  anonymous,
  auditEvents,
  createUser,
  expectProblem,
  findAuditEvent,
  loginAsAdmin,
  mentions,
} from './support/airlock.mjs';

describe('login backoff', () => {
  it('locks an account after 5 wrong passwords, even against the right one, with Retry-After', async () => {
    const admin = await loginAsAdmin();
    const judy = await createUser(admin, [], { prefix: 'judy', login: false });
    const from = aMomentAgo();

    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await expectProblem(
        () => anonymous().login(judy.username, `wrong-password-${attempt}`),
        401,
        PROBLEM.invalidCredentials,
      );
    }
    const locked = await expectProblem(() => anonymous().login(judy.username, judy.password), 429, PROBLEM.accountLocked);
    const retryAfter = locked.headers.get('retry-after');
    assert.match(retryAfter ?? '', /^\d+$/, `Retry-After is a number of seconds: ${retryAfter}`);
    assert.ok(locked.retryAfterSeconds > 0 && locked.retryAfterSeconds <= 3600, `Retry-After: ${retryAfter}`);

    // Every attempt is audited, and the lock with it.
    await findAuditEvent(admin, { action: 'user.locked', from }, (event) => mentions(event, judy));
    const attempts = await auditEvents(admin, { action: 'auth.login', from }, (event) => mentions(event, judy));
    assert.ok(attempts.length >= 6, `6 login attempts audited, found ${attempts.length}`);
    assert.ok(
      attempts.every((event) => event.outcome !== 'success'),
      'no attempt succeeded',
    );
  });
});
