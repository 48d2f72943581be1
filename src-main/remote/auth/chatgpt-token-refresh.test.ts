import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  refreshChatgptTokens,
  RefreshFailure,
  refreshUrl,
  REFRESH_EXPIRED_MESSAGE,
  REFRESH_INVALID_RESPONSE_MESSAGE,
  REFRESH_REJECTED_MESSAGE,
  REFRESH_REUSED_MESSAGE,
  REFRESH_REVOKED_MESSAGE,
  TOKEN_REFRESH_URL,
} from './chatgpt-token-refresh.ts';
import { startRecordingServer } from './testing/registry-probe.ts';

test('failures are classified like the binary: any 4xx permanent, by code; 5xx transient', async () => {
  const server = await startRecordingServer();
  const env = { CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${server.url}/oauth/token` };
  try {
    const cases: Array<[number, unknown, string, boolean]> = [
      [400, { error: { code: 'refresh_token_expired' } }, REFRESH_EXPIRED_MESSAGE, true],
      [403, { error: { code: 'refresh_token_reused' } }, REFRESH_REUSED_MESSAGE, true],
      [401, { error: 'refresh_token_invalidated' }, REFRESH_REVOKED_MESSAGE, true],
      [400, { error: 'invalid_grant' }, REFRESH_REJECTED_MESSAGE, true],
      [401, {}, REFRESH_REJECTED_MESSAGE, true],
      [200, 'nope', REFRESH_INVALID_RESPONSE_MESSAGE, true],
      [200, { access_token: 5 }, REFRESH_INVALID_RESPONSE_MESSAGE, true],
      [500, 'boom', 'Failed to refresh token: 500 Internal Server Error', false],
    ];
    for (const [status, body, message, permanent] of cases) {
      server.answer = () => ({ status, body });
      await assert.rejects(
        refreshChatgptTokens('rt', 'forced', env),
        (err: unknown) => err instanceof RefreshFailure && err.message === message && err.permanent === permanent,
        `${status} ${JSON.stringify(body)}`,
      );
    }
    server.answer = () => ({ status: 200, body: { access_token: 'new', extra: 1 } });
    assert.deepEqual(await refreshChatgptTokens('rt', 'forced', env), { access_token: 'new' });
  } finally {
    await server.close();
  }
  await assert.rejects(refreshChatgptTokens('rt', 'forced', env), (err: unknown) => err instanceof RefreshFailure && !err.permanent);
});

test('default endpoint and override', () => {
  assert.equal(refreshUrl({}).href, TOKEN_REFRESH_URL);
  assert.equal(refreshUrl({ CODEX_REFRESH_TOKEN_URL_OVERRIDE: ' http://127.0.0.1:9/t ' }).href, 'http://127.0.0.1:9/t');
});
