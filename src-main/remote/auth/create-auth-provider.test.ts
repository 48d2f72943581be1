import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { AuthError } from './auth-provider.ts';
import {
  createAuthProvider,
  EXTERNAL_TOKENS_MESSAGE,
  NO_LOGIN_MESSAGE,
  NO_USABLE_BEARER_MESSAGE,
  resolveCodexHome,
} from './create-auth-provider.ts';
import { chatgptAccessToken, chatgptIdToken, context, NO_FLAGS, tempHome, writeJson } from './testing/fixtures.ts';

const REQUEST = { url: new URL('http://127.0.0.1:1/api/cloud/environment/env-1/register'), method: 'POST' as const, body: new Uint8Array() };

function authError(message: string, kind: AuthError['kind'] = 'config') {
  return (err: unknown) => err instanceof AuthError && err.message === message && err.kind === kind;
}

test('CODEX_API_KEY (trimmed) gives Bearer only, and wins over auth.json', async () => {
  const home = await tempHome();
  try {
    await writeJson(join(home.dir, 'auth.json'), { OPENAI_API_KEY: 'sk-file' });
    const provider = await createAuthProvider(NO_FLAGS, context(home.dir, { env: { CODEX_API_KEY: '  sk x ' } }));
    assert.equal(provider.method, 'api-key');
    assert.equal(provider.omitsRegistryErrorBody ?? false, false);
    assert.deepEqual(await provider.headers(REQUEST), [['authorization', 'Bearer sk x']]);
    assert.equal(await provider.refreshAfterUnauthorized(), false);
  } finally {
    await home.cleanup();
  }
});

test('auth.json API key when CODEX_API_KEY is empty or unset', async () => {
  const home = await tempHome();
  try {
    await writeJson(join(home.dir, 'auth.json'), { OPENAI_API_KEY: 'sk-file', tokens: { id_token: 'a', access_token: 'b', refresh_token: 'c' } });
    for (const env of [{}, { CODEX_API_KEY: '' }, { CODEX_API_KEY: '   ' }]) {
      const provider = await createAuthProvider(NO_FLAGS, context(home.dir, { env }));
      assert.deepEqual(await provider.headers(REQUEST), [['authorization', 'Bearer sk-file']]);
    }
  } finally {
    await home.cleanup();
  }
});

test('OPENAI_API_KEY and CODEX_ACCESS_TOKEN in the environment are not used', async () => {
  const home = await tempHome();
  try {
    const env = { OPENAI_API_KEY: 'sk-env', CODEX_ACCESS_TOKEN: 'abc' };
    await assert.rejects(createAuthProvider(NO_FLAGS, context(home.dir, { env })), authError(NO_LOGIN_MESSAGE));
  } finally {
    await home.cleanup();
  }
});

test('auth.json that does not deserialize counts as no login (as on the binary)', async () => {
  const home = await tempHome();
  const path = join(home.dir, 'auth.json');
  const id = chatgptIdToken('acc');
  const at = chatgptAccessToken('acc', 9_999_999_999);
  try {
    const cases: string[] = [
      '{bad',
      '[]',
      JSON.stringify({ auth_mode: 'apikey' }),
      JSON.stringify({ tokens: { id_token: id, access_token: at, account_id: 'acc' }, last_refresh: '2026-11-22T00:00:00Z' }),
      JSON.stringify({ tokens: { id_token: id, access_token: at, refresh_token: 'r' }, last_refresh: 'yesterday' }),
    ];
    for (const text of cases) {
      await writeFile(path, text);
      await assert.rejects(createAuthProvider(NO_FLAGS, context(home.dir)), authError(NO_LOGIN_MESSAGE), text);
    }
  } finally {
    await home.cleanup();
  }
});

test('a ChatGPT login without tokens or last_refresh fails like the binary', async () => {
  const home = await tempHome();
  const path = join(home.dir, 'auth.json');
  const tokens = { id_token: chatgptIdToken('acc'), access_token: chatgptAccessToken('acc', 9_999_999_999), refresh_token: 'r', account_id: 'acc' };
  try {
    for (const value of [{}, { auth_mode: 'chatgpt' }, { tokens }, { tokens, last_refresh: null }]) {
      await writeJson(path, value);
      await assert.rejects(createAuthProvider(NO_FLAGS, context(home.dir)), authError(NO_USABLE_BEARER_MESSAGE, 'auth_needed'));
    }
    await writeJson(path, { auth_mode: 'chatgptAuthTokens', tokens, last_refresh: '2026-11-22T00:00:00Z' });
    await assert.rejects(createAuthProvider(NO_FLAGS, context(home.dir)), authError(EXTERNAL_TOKENS_MESSAGE, 'auth_needed'));
  } finally {
    await home.cleanup();
  }
});

test('CODEX_HOME overrides ~/.codex', () => {
  assert.equal(resolveCodexHome({ CODEX_HOME: '/x/y' }), '/x/y');
  assert.match(resolveCodexHome({}), /\.codex$/);
});
