import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { AuthError } from './auth-provider.ts';
import { createAuthProvider } from './create-auth-provider.ts';
import { BEARER_NOT_TERMINATED_MESSAGE, INVALID_BEARER_MESSAGE } from './registration-bearer-provider.ts';
import { HTTPS_OR_LOOPBACK_RULE_MESSAGE } from './registry-url.ts';
import { context, NO_FLAGS, tempHome } from './testing/fixtures.ts';
import { authHeadersOf, probeRegistry, startRecordingServer } from './testing/registry-probe.ts';

const FLAGS = { ...NO_FLAGS, registrationBearerStdin: true };

async function withStdin(write: (stdin: PassThrough) => void) {
  const home = await tempHome();
  const stdin = new PassThrough();
  write(stdin);
  try {
    return await createAuthProvider(FLAGS, context(home.dir, { stdin, env: { CODEX_API_KEY: 'sk-ignored' } }));
  } finally {
    await home.cleanup();
  }
}

test('one bearer line: Bearer header on the wire, CODEX_API_KEY ignored; https or loopback only', async () => {
  const server = await startRecordingServer();
  try {
    const provider = await withStdin((s) => s.write('reg-bearer.1~x/y=\r\nsecond-line-ignored\n'));
    assert.equal(provider.method, 'registration-bearer');
    assert.equal(provider.omitsRegistryErrorBody, true);
    await probeRegistry(provider, new URL(`${server.url}/api`), 'cloud/environment/e/register', {});
    assert.deepEqual(authHeadersOf(server.seen[0]!), [['authorization', 'Bearer reg-bearer.1~x/y=']]);
    assert.doesNotThrow(() => provider.checkRegistryUrl(new URL('https://example.invalid/')));
    for (const refused of ['http://example.invalid/', 'unix:/x']) {
      assert.throws(() => provider.checkRegistryUrl(new URL(refused)), { message: HTTPS_OR_LOOPBACK_RULE_MESSAGE }, refused);
    }
    assert.equal(await provider.refreshAfterUnauthorized(), false);
  } finally {
    await server.close();
  }
});

test('waits for the line as long as stdin is open', async () => {
  const home = await tempHome();
  const stdin = new PassThrough();
  try {
    const pending = createAuthProvider(FLAGS, context(home.dir, { stdin }));
    let settled = false;
    void pending.finally(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false);
    stdin.write('late\n');
    assert.deepEqual(await (await pending).headers({ url: new URL('http://h/'), method: 'POST', body: new Uint8Array() }), [
      ['authorization', 'Bearer late'],
    ]);
  } finally {
    await home.cleanup();
  }
});

test('errors: the binary texts', async () => {
  const cases: Array<[string, (s: PassThrough) => void, string]> = [
    ['EOF without newline', (s) => s.end('abc'), BEARER_NOT_TERMINATED_MESSAGE],
    ['empty stdin', (s) => s.end(), BEARER_NOT_TERMINATED_MESSAGE],
    ['16 KiB with the newline is too long', (s) => s.write(`${'a'.repeat(16 * 1024)}\n`), BEARER_NOT_TERMINATED_MESSAGE],
    ['empty line', (s) => s.write('\n'), INVALID_BEARER_MESSAGE],
    ['spaces', (s) => s.write('  my bearer \n'), INVALID_BEARER_MESSAGE],
    ['non-ASCII', (s) => s.write('é\n'), INVALID_BEARER_MESSAGE],
  ];
  for (const [name, write, message] of cases) {
    await assert.rejects(withStdin(write), (err: unknown) => err instanceof AuthError && err.message === message && err.kind === 'config', name);
  }
  const longest = await withStdin((s) => s.write(`${'a'.repeat(16 * 1024 - 1)}\n`));
  assert.equal((await longest.headers({ url: new URL('http://h/'), method: 'POST', body: new Uint8Array() }))[0]![1].length, 7 + 16 * 1024 - 1);
});
