import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { classifyAuthJson, readAuthJsonText, writeAuthJsonAtomically } from './auth-json.ts';
import { tempHome } from './testing/fixtures.ts';

const tokens = { id_token: 'i', access_token: 'a', refresh_token: 'r' };
const LR = '2026-11-22T05:07:34.159610013Z';

test('classification follows the binary', () => {
  assert.deepEqual(classifyAuthJson(null), { kind: 'none' });
  assert.deepEqual(classifyAuthJson('{"OPENAI_API_KEY":"sk"}'), { kind: 'api-key', key: 'sk' });
  assert.deepEqual(classifyAuthJson(JSON.stringify({ OPENAI_API_KEY: 'sk', tokens, last_refresh: LR })), { kind: 'api-key', key: 'sk' });
  assert.equal(classifyAuthJson(JSON.stringify({ auth_mode: 'chatgpt', OPENAI_API_KEY: 'sk', tokens, last_refresh: LR })).kind, 'chatgpt');
  assert.equal(classifyAuthJson(JSON.stringify({ tokens, last_refresh: '2026-11-22T05:07:34+02:00' })).kind, 'chatgpt');
  assert.deepEqual(classifyAuthJson(JSON.stringify({ tokens })), { kind: 'unusable-chatgpt', reason: 'no-usable-bearer' });
  assert.deepEqual(classifyAuthJson(JSON.stringify({ auth_mode: 'chatgptAuthTokens', tokens, last_refresh: LR })), { kind: 'unusable-chatgpt', reason: 'external-tokens' });
  for (const bad of ['{', '"x"', '{"OPENAI_API_KEY":5}', JSON.stringify({ tokens: { access_token: 'a' }, last_refresh: LR }), JSON.stringify({ auth_mode: 'other', tokens, last_refresh: LR })]) {
    assert.deepEqual(classifyAuthJson(bad), { kind: 'none' }, bad);
  }
});

test('atomic write: 0600, replaces the file, leaves no temp file', async () => {
  const home = await tempHome();
  const path = join(home.dir, 'auth.json');
  try {
    await writeFile(path, '{"old":true}', { mode: 0o644 });
    await writeAuthJsonAtomically(path, { auth_mode: 'chatgpt', tokens, last_refresh: LR, keep: [1] });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { auth_mode: 'chatgpt', tokens, last_refresh: LR, keep: [1] });
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(home.dir), ['auth.json']);
    assert.equal(await readAuthJsonText(join(home.dir, 'missing.json')), null);
  } finally {
    await home.cleanup();
  }
});
