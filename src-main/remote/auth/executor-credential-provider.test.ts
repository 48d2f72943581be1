import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { AuthError } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import {
  EXPIRED_MESSAGE,
  ExecutorCredentialProvider,
  FRAME_TOO_LARGE_MESSAGE,
  INITIAL_CREDENTIAL_TIMEOUT_MS,
  INITIAL_TIMEOUT_MESSAGE,
  INVALID_FRAME_MESSAGE,
  OTHER_ENVIRONMENT_MESSAGE,
  PIPE_CLOSED_MESSAGE,
} from './executor-credential-provider.ts';
import { HTTPS_OR_LOOPBACK_RULE_MESSAGE } from './registry-url.ts';
import { context, NO_FLAGS, tempHome } from './testing/fixtures.ts';
import { probeRegistry, startRecordingServer } from './testing/registry-probe.ts';

const FLAGS = { ...NO_FLAGS, executorCredentialStdin: true };
const REQUEST = { url: new URL('http://127.0.0.1:1/api/x'), method: 'POST' as const, body: new Uint8Array() };
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const frame = (token: string, expiresAt = inAnHour(), environment = 'env-1') =>
  `${JSON.stringify({ version: 1, token, environment_id: environment, expires_at: expiresAt })}\n`;

async function start(stdin: PassThrough) {
  const home = await tempHome();
  try {
    return await createAuthProvider(FLAGS, context(home.dir, { stdin, env: { CODEX_API_KEY: 'sk-ignored' } }));
  } finally {
    await home.cleanup();
  }
}

/** Polls (bounded) until the provider sends `token`. */
async function untilToken(provider: { headers: ExecutorCredentialProvider['headers'] }, token: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const current = await provider.headers(REQUEST).catch(() => null);
    if (current?.[0]![1] === `Bearer ${token}`) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`token ${token} never became current`);
}

test('first frame gives Bearer only; later frames rotate it; EOF ends with code 0', async () => {
  const stdin = new PassThrough();
  stdin.write(frame('tok-1'));
  const provider = await start(stdin);
  assert.equal(provider.method, 'executor-credential');
  assert.equal(provider.omitsRegistryErrorBody, true);
  assert.throws(() => provider.checkRegistryUrl(new URL('http://example.invalid/')), { message: HTTPS_OR_LOOPBACK_RULE_MESSAGE });
  assert.doesNotThrow(() => provider.checkRegistryUrl(new URL('https://example.invalid/')));
  assert.deepEqual(await provider.headers(REQUEST), [['authorization', 'Bearer tok-1']]);
  stdin.write(frame('tok-2'));
  await untilToken(provider, 'tok-2');
  assert.equal(await provider.refreshAfterUnauthorized(), false);
  stdin.end();
  assert.deepEqual(await provider.ended, { code: 0 });
});

test('start-up errors: the binary texts', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases: Array<[string, string | null, string]> = [
    ['version 2', `{"version":2,"token":"t","environment_id":"env-1","expires_at":${inAnHour()}}\n`, INVALID_FRAME_MESSAGE],
    ['version 1.0', `{"version":1.0,"token":"t","environment_id":"env-1","expires_at":${inAnHour()}}\n`, INVALID_FRAME_MESSAGE],
    ['expires_at string', `{"version":1,"token":"t","environment_id":"env-1","expires_at":"2030-01-01T00:00:00Z"}\n`, INVALID_FRAME_MESSAGE],
    ['expires_at fraction', `{"version":1,"token":"t","environment_id":"env-1","expires_at":${inAnHour()}.5}\n`, INVALID_FRAME_MESSAGE],
    ['extra member', `{"version":1,"token":"t","environment_id":"env-1","expires_at":${inAnHour()},"x":1}\n`, INVALID_FRAME_MESSAGE],
    ['missing member', `{"version":1,"token":"t","environment_id":"env-1"}\n`, INVALID_FRAME_MESSAGE],
    ['empty token', frame(''), INVALID_FRAME_MESSAGE],
    ['token with a space', frame('a b'), INVALID_FRAME_MESSAGE],
    ['not JSON', 'hello\n', INVALID_FRAME_MESSAGE],
    ['blank line', `\n${frame('t')}`, INVALID_FRAME_MESSAGE],
    ['partial then EOF', null, INVALID_FRAME_MESSAGE],
    ['other environment', frame('t', inAnHour(), 'env-2'), OTHER_ENVIRONMENT_MESSAGE],
    ['padded environment', frame('t', inAnHour(), ' env-1'), OTHER_ENVIRONMENT_MESSAGE],
    ['expired', frame('t', now - 5), EXPIRED_MESSAGE],
    ['expires now', frame('t', Math.floor(Date.now() / 1000)), EXPIRED_MESSAGE],
    ['16 KiB frame', `{"version":1,"token":"${'t'.repeat(16 * 1024)}","environment_id":"env-1","expires_at":1}\n`, FRAME_TOO_LARGE_MESSAGE],
  ];
  for (const [name, text, message] of cases) {
    const stdin = new PassThrough();
    if (text === null) stdin.end('{"version":1');
    else stdin.write(text);
    await assert.rejects(start(stdin), (err: unknown) => err instanceof AuthError && err.message === message && err.kind === 'config', name);
  }
  const eof = new PassThrough();
  eof.end();
  await assert.rejects(start(eof), (err: unknown) => err instanceof AuthError && err.message === PIPE_CLOSED_MESSAGE);
});

test('a frame of 16 KiB including its newline is accepted', async () => {
  const head = '{"version":1,"token":"';
  const tail = `","environment_id":"env-1","expires_at":${inAnHour()}}`;
  const token = 't'.repeat(16 * 1024 - 1 - head.length - tail.length);
  const stdin = new PassThrough();
  stdin.write(`${head}${token}${tail}\n`);
  const provider = await start(stdin);
  assert.equal((await provider.headers(REQUEST))[0]![1], `Bearer ${token}`);
  provider.close();
});

test('the first frame must come within the timeout (30 s by default)', async () => {
  assert.equal(INITIAL_CREDENTIAL_TIMEOUT_MS, 30_000);
  const stdin = new PassThrough();
  await assert.rejects(
    ExecutorCredentialProvider.fromStdin({ stdin, environmentId: 'env-1', initialTimeoutMs: 50 }),
    (err: unknown) => err instanceof AuthError && err.message === INITIAL_TIMEOUT_MESSAGE,
  );
});

test('a bad later frame ends the provider with code 1 and its text', async () => {
  const later: Array<[string, string]> = [
    ['garbage\n', INVALID_FRAME_MESSAGE],
    [frame('t', inAnHour(), 'env-2'), OTHER_ENVIRONMENT_MESSAGE],
    [frame('t', 1), EXPIRED_MESSAGE],
    ['x'.repeat(20_000), FRAME_TOO_LARGE_MESSAGE],
  ];
  for (const [text, message] of later) {
    const stdin = new PassThrough();
    stdin.write(frame('tok-1'));
    const provider = await start(stdin);
    stdin.write(text);
    assert.deepEqual(await provider.ended, { code: 1, message });
  }
});

test('an expired credential: headers() throws and nothing reaches the registry', async () => {
  const server = await startRecordingServer();
  try {
    const stdin = new PassThrough();
    const expiresAt = Math.floor(Date.now() / 1000) + 1;
    stdin.write(frame('short-lived', expiresAt));
    const provider = await start(stdin);
    const wait = expiresAt * 1000 - Date.now() + 20;
    await new Promise((r) => setTimeout(r, Math.max(wait, 0)));
    await assert.rejects(
      probeRegistry(provider, new URL(`${server.url}/api`), 'cloud/environment/env-1/validate', {}),
      (err: unknown) => err instanceof AuthError && err.message === EXPIRED_MESSAGE && err.kind === 'auth_needed',
    );
    assert.equal(server.seen.length, 0);
    // A fresh frame makes it usable again.
    stdin.write(frame('tok-new'));
    await untilToken(provider, 'tok-new');
    assert.equal(await probeRegistry(provider, new URL(`${server.url}/api`), 'cloud/environment/env-1/validate', {}), 200);
    assert.deepEqual(server.seen[0]!.headers.find(([n]) => n === 'authorization'), ['authorization', 'Bearer tok-new']);
    provider.close();
  } finally {
    await server.close();
  }
});
