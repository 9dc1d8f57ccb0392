import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { anonymous } from './support/airlock.mjs';

describe('public endpoints', () => {
  it('reports health UP without credentials', async () => {
    const health = await anonymous().health.getHealth();
    assert.equal(health.status, 'UP');
    assert.equal(health.database, 'UP');
    assert.ok(health.version, 'the platform names its version');
  });

  it('publishes at least one signing key with a kid', async () => {
    const jwks = await anonymous().auth.getJwks();
    assert.ok(jwks.keys.length >= 1, 'the key set is not empty');
    for (const key of jwks.keys) {
      assert.ok(key.kid, `every key has a kid: ${JSON.stringify(key)}`);
      assert.ok(key.kty, `every key has a kty: ${JSON.stringify(key)}`);
      assert.equal(key.d, undefined, 'no private key material');
    }
  });
});
