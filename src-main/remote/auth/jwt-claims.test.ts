import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatgptAccountIdClaim, jwtExpiry, jwtPayload } from './jwt-claims.ts';
import { fakeJwt } from './testing/fixtures.ts';

test('payload, exp and the ChatGPT account claim', () => {
  const token = fakeJwt({ exp: 123, 'https://api.openai.com/auth': { chatgpt_account_id: 'acc' } });
  assert.equal(jwtExpiry(token), 123);
  assert.equal(chatgptAccountIdClaim(jwtPayload(token)!), 'acc');
  assert.equal(chatgptAccountIdClaim({ 'https://api.openai.com/auth': { chatgpt_account_id: '' } }), null);
  assert.equal(jwtExpiry(fakeJwt({ exp: 'soon' })), null);
  for (const bad of ['abc', 'a.b.c', 'a.b']) assert.equal(jwtPayload(bad), null, bad);
});
