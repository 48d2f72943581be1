import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AuthError } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import { ChatgptLoginProvider } from './chatgpt-login-provider.ts';
import { CODEX_CLIENT_ID, REFRESH_EXPIRED_MESSAGE, REFRESH_INVALID_RESPONSE_MESSAGE, REFRESH_REUSED_MESSAGE } from './chatgpt-token-refresh.ts';
import { codexUserAgent } from './codex-user-agent.ts';
import { chatgptAccessToken, chatgptIdToken, context, NO_FLAGS, tempHome, writeJson } from './testing/fixtures.ts';
import { startRecordingServer, type RecordingServer } from './testing/registry-probe.ts';

const REQUEST = { url: new URL('http://127.0.0.1:1/api/cloud/environment/env-1/register'), method: 'POST' as const, body: new Uint8Array() };
const nowS = () => Math.floor(Date.now() / 1000);

interface Setup {
  provider: ChatgptLoginProvider;
  server: RecordingServer;
  authPath: string;
  initial: string;
  cleanup: () => Promise<void>;
}

/** A login whose access token expires in `expiresInS`, and a fake token endpoint. */
async function setup(expiresInS: number, options: { account?: string | null; extra?: Record<string, unknown> } = {}): Promise<Setup> {
  const home = await tempHome();
  const server = await startRecordingServer();
  let issued = 0;
  server.answer = () => {
    issued += 1;
    return {
      status: 200,
      body: { id_token: chatgptIdToken('acc'), access_token: chatgptAccessToken('acc', nowS() + 3600 + issued), refresh_token: `rt-${issued}` },
    };
  };
  const account = options.account === undefined ? 'acc' : options.account;
  const initial = chatgptAccessToken('acc', nowS() + expiresInS);
  const tokens: Record<string, unknown> = { id_token: chatgptIdToken('acc'), access_token: initial, refresh_token: 'rt-0' };
  if (account) tokens.account_id = account;
  const authPath = join(home.dir, 'auth.json');
  await writeJson(authPath, { auth_mode: 'chatgpt', OPENAI_API_KEY: null, tokens, last_refresh: '2026-01-01T00:00:00Z', ...options.extra });
  const env = { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${server.url}/oauth/token`, TERM: 'xterm-test' };
  const provider = (await createAuthProvider(NO_FLAGS, context(home.dir, { env }))) as ChatgptLoginProvider;
  assert.equal(provider.method, 'chatgpt');
  return {
    provider,
    server,
    authPath,
    initial,
    cleanup: async () => {
      provider.close();
      await server.close();
      await home.cleanup();
    },
  };
}

test('headers: authorization then chatgpt-account-id; no refresh when exp is 6 min away', async () => {
  const s = await setup(6 * 60);
  try {
    assert.deepEqual(await s.provider.headers(REQUEST), [
      ['authorization', `Bearer ${s.initial}`],
      ['chatgpt-account-id', 'acc'],
    ]);
    assert.equal(s.server.seen.length, 0);
    for (const url of ['http://example.invalid/', 'unix:/x']) assert.doesNotThrow(() => s.provider.checkRegistryUrl(new URL(url)), url);
  } finally {
    await s.cleanup();
  }
});

test('a login without account_id sends authorization only', async () => {
  const s = await setup(3600, { account: null });
  try {
    assert.deepEqual(await s.provider.headers(REQUEST), [['authorization', `Bearer ${s.initial}`]]);
  } finally {
    await s.cleanup();
  }
});

test('proactive refresh at 4 min: the request, the new token, and auth.json written back', async () => {
  const s = await setup(4 * 60, { extra: { agent_identity: { keep: 'me' }, future_member: [1, 2] } });
  try {
    const headers = await s.provider.headers(REQUEST);
    assert.equal(s.server.seen.length, 1);
    const refresh = s.server.seen[0]!;
    assert.equal(refresh.method, 'POST');
    assert.equal(refresh.url, '/oauth/token');
    assert.deepEqual(
      refresh.headers.map(([n]) => n),
      ['content-type', 'originator', 'user-agent', 'accept', 'host', 'content-length'],
    );
    assert.deepEqual(refresh.headers.slice(0, 4), [
      ['content-type', 'application/json'],
      ['originator', 'codex_cli_rs'],
      ['user-agent', codexUserAgent({ TERM: 'xterm-test' })],
      ['accept', '*/*'],
    ]);
    assert.match(codexUserAgent({ TERM: 'xterm-test' }), /^codex_cli_rs\/0\.169\.0 \(.+; .+\) xterm-test$/);
    assert.equal(
      refresh.body,
      `{"client_id":"${CODEX_CLIENT_ID}","grant_type":"refresh_token","refresh_reason":"proactive_expiry","refresh_token":"rt-0"}`,
    );
    const written = JSON.parse(await readFile(s.authPath, 'utf8'));
    assert.equal(headers[0]![1], `Bearer ${written.tokens.access_token}`);
    assert.notEqual(written.tokens.access_token, s.initial);
    assert.equal(written.tokens.refresh_token, 'rt-1');
    assert.equal(written.tokens.account_id, 'acc');
    assert.ok(Date.now() - Date.parse(written.last_refresh) < 60_000, 'last_refresh is now');
    assert.deepEqual(written.agent_identity, { keep: 'me' });
    assert.deepEqual(written.future_member, [1, 2]);
    assert.equal(written.auth_mode, 'chatgpt');
    assert.equal((await stat(s.authPath)).mode & 0o777, 0o600);
    // The next request uses the new token without refreshing again.
    assert.deepEqual(await s.provider.headers(REQUEST), headers);
    assert.equal(s.server.seen.length, 1);
  } finally {
    await s.cleanup();
  }
});

test('an expired token is refreshed too', async () => {
  const s = await setup(-60);
  try {
    const [[, value]] = (await s.provider.headers(REQUEST)) as [[string, string]];
    assert.notEqual(value, `Bearer ${s.initial}`);
    assert.equal(s.server.seen.length, 1);
  } finally {
    await s.cleanup();
  }
});

test('concurrent requests share one refresh', async () => {
  const s = await setup(60);
  try {
    const all = await Promise.all(Array.from({ length: 6 }, () => s.provider.headers(REQUEST)));
    assert.equal(s.server.seen.length, 1);
    for (const headers of all) assert.deepEqual(headers, all[0]);
  } finally {
    await s.cleanup();
  }
});

test('401: one forced refresh, then a second 401 is final', async () => {
  const s = await setup(3600);
  try {
    await s.provider.headers(REQUEST);
    assert.equal(await s.provider.refreshAfterUnauthorized(), true);
    assert.equal(s.server.seen.length, 1);
    assert.match(s.server.seen[0]!.body, /"refresh_reason":"forced","refresh_token":"rt-0"}$/);
    const after = await s.provider.headers(REQUEST);
    assert.notEqual(after[0]![1], `Bearer ${s.initial}`);
    assert.equal(await s.provider.refreshAfterUnauthorized(), false);
    assert.equal(s.server.seen.length, 1, 'no second refresh');
    const written = JSON.parse(await readFile(s.authPath, 'utf8'));
    assert.equal(after[0]![1], `Bearer ${written.tokens.access_token}`);
  } finally {
    await s.cleanup();
  }
});

test('permanent refresh failure: a still-valid token is used; 401 then needs sign-in; nothing retried', async () => {
  const s = await setup(4 * 60);
  s.server.answer = () => ({ status: 400, body: { error: { code: 'refresh_token_expired', message: 'x' } } });
  try {
    assert.deepEqual((await s.provider.headers(REQUEST))[0], ['authorization', `Bearer ${s.initial}`]);
    await assert.rejects(
      s.provider.refreshAfterUnauthorized(),
      (err: unknown) => err instanceof AuthError && err.kind === 'auth_needed' && err.message === REFRESH_EXPIRED_MESSAGE,
    );
    await s.provider.headers(REQUEST);
    assert.equal(s.server.seen.length, 1, 'a permanent failure is not retried');
    const onDisk = JSON.parse(await readFile(s.authPath, 'utf8'));
    assert.equal(onDisk.tokens.refresh_token, 'rt-0', 'auth.json untouched');
  } finally {
    await s.cleanup();
  }
});

test('expired token and failed refresh: headers() throws auth_needed without the token in the text', async () => {
  const s = await setup(-10);
  s.server.answer = () => ({ status: 200, body: ['not', 'an', 'object'] });
  try {
    await assert.rejects(s.provider.headers(REQUEST), (err: unknown) => {
      assert.ok(err instanceof AuthError);
      assert.equal(err.kind, 'auth_needed');
      assert.equal(err.message, REFRESH_INVALID_RESPONSE_MESSAGE);
      assert.ok(!err.message.includes('rt-0') && !err.message.includes(s.initial));
      return true;
    });
  } finally {
    await s.cleanup();
  }
});

test('a 5xx from the token endpoint is transient: unavailable, and tried again later', async () => {
  const s = await setup(3600);
  s.server.answer = () => ({ status: 503 });
  try {
    await assert.rejects(
      s.provider.refreshAfterUnauthorized(),
      (err: unknown) => err instanceof AuthError && err.kind === 'unavailable' && err.message === 'Failed to refresh token: 503 Service Unavailable',
    );
    s.server.answer = () => ({ status: 200, body: { access_token: chatgptAccessToken('acc', nowS() + 7200) } });
    assert.equal(await s.provider.refreshAfterUnauthorized(), true);
    assert.equal(s.server.seen.length, 2);
    const written = JSON.parse(await readFile(s.authPath, 'utf8'));
    assert.equal(written.tokens.refresh_token, 'rt-0', 'a response without refresh_token keeps the old one');
  } finally {
    await s.cleanup();
  }
});

test('tokens refreshed by another process are adopted instead of refreshing again', async () => {
  const s = await setup(60);
  try {
    const newer = chatgptAccessToken('acc', nowS() + 7200);
    const file = JSON.parse(await readFile(s.authPath, 'utf8'));
    file.tokens.access_token = newer;
    file.tokens.refresh_token = 'rt-other';
    await writeJson(s.authPath, file);
    assert.deepEqual((await s.provider.headers(REQUEST))[0], ['authorization', `Bearer ${newer}`]);
    assert.equal(s.server.seen.length, 0);
  } finally {
    await s.cleanup();
  }
});

test('401s arriving together share one forced refresh; a failing shared refresh is an AuthError for all', async () => {
  const s = await setup(3600);
  try {
    const results = await Promise.all([s.provider.refreshAfterUnauthorized(), s.provider.refreshAfterUnauthorized(), s.provider.refreshAfterUnauthorized()]);
    assert.deepEqual(results, [true, true, true]);
    assert.equal(s.server.seen.length, 1);
  } finally {
    await s.cleanup();
  }
  const f = await setup(3600);
  f.server.answer = () => ({ status: 401, body: { error: 'refresh_token_reused' } });
  try {
    const settled = await Promise.allSettled([f.provider.refreshAfterUnauthorized(), f.provider.refreshAfterUnauthorized()]);
    for (const result of settled) {
      assert.equal(result.status, 'rejected');
      const reason = (result as PromiseRejectedResult).reason;
      assert.ok(reason instanceof AuthError && reason.kind === 'auth_needed' && reason.message === REFRESH_REUSED_MESSAGE);
    }
    assert.equal(f.server.seen.length, 1);
  } finally {
    await f.cleanup();
  }
});
