import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  PROBLEM,
  aMomentAgo,
  anonymous,
  createUser,
  expectProblem,
  findAuditEvent,
  loginAsAdmin,
  mentions,
} from './support/airlock.mjs';

describe('audit log', () => {
  it('verifies its hash chain', async () => {
    const admin = await loginAsAdmin();
    const verification = await admin.audit.verifyAuditChain();
    assert.equal(verification.valid, true, `the chain breaks at ${verification.firstBadSeq}: ${verification.reason}`);
    assert.ok(verification.checked > 0, 'at least one event was checked');
    assert.equal(verification.firstBadSeq, undefined);
  });

  it('filters events by action and outcome', async () => {
    const admin = await loginAsAdmin();
    const from = aMomentAgo();
    const kim = await createUser(admin, [], { prefix: 'kim' });
    await expectProblem(() => anonymous().login(kim.username, 'not-kims-password'), 401, PROBLEM.invalidCredentials);

    const successes = await admin.audit.listAuditEvents({ action: 'auth.login', outcome: 'success', actor: kim.username });
    assert.equal(successes.items.length, 1, 'one successful login');
    assert.equal(successes.items[0].actor, kim.username);
    await findAuditEvent(admin, { action: 'auth.login', outcome: 'failure', from }, (event) => mentions(event, kim));

    for (const outcome of ['success', 'failure', 'denied']) {
      const page = await admin.audit.listAuditEvents({ action: 'auth.login', outcome, limit: 20 });
      for (const event of page.items) {
        assert.equal(event.action, 'auth.login');
        assert.equal(event.outcome, outcome);
        assert.ok(event.hash, 'every event is chained');
      }
    }

    // The admin's creation of Kim is on record too.
    await findAuditEvent(admin, { action: 'user.create', outcome: 'success', from }, (event) => mentions(event, kim));
  });

  it('pages with limit and nextCursor, newest first, without duplicates', async () => {
    const admin = await loginAsAdmin();
    const leo = await createUser(admin, [], { prefix: 'leo' });
    for (let i = 0; i < 4; i += 1) {
      await anonymous().login(leo.username, leo.password);
    }
    // Leo logged in 5 times: pages of 2, 2 and 1, the last without a cursor.
    const query = { action: 'auth.login', actor: leo.username, limit: 2 };
    const pages = [];
    let cursor;
    do {
      const page = await admin.audit.listAuditEvents({ ...query, cursor });
      pages.push(page);
      cursor = page.nextCursor;
      assert.ok(pages.length <= 5, 'pagination ends');
    } while (cursor);

    assert.deepEqual(
      pages.map((page) => page.items.length),
      [2, 2, 1],
    );
    const events = pages.flatMap((page) => page.items);
    assert.equal(new Set(events.map((event) => event.id)).size, 5, 'no event twice');
    for (let i = 1; i < events.length; i += 1) {
      assert.ok(events[i - 1].seq > events[i].seq, 'newest first');
    }
  });
});
