import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from './auth-provider.ts';
import { ApiKeyProvider } from './api-key-provider.ts';
import { API_KEY_HOST_REFUSED, REGISTRY_URL_NEEDS_HOST } from './registry-url.ts';
import { authHeadersOf, probeRegistry, startRecordingServer } from './testing/registry-probe.ts';

test('Bearer header on the wire, between content-type and accept', async () => {
  const server = await startRecordingServer();
  try {
    const provider = new ApiKeyProvider('sk-test');
    const status = await probeRegistry(provider, new URL(`${server.url}/api/`), 'cloud/environment/e1/register', { a: 1 });
    assert.equal(status, 200);
    assert.equal(server.seen.length, 1);
    assert.deepEqual(authHeadersOf(server.seen[0]!), [['authorization', 'Bearer sk-test']]);
    assert.equal(server.seen[0]!.url, '/api/cloud/environment/e1/register');
  } finally {
    await server.close();
  }
});

test('non-openai or plain-http registry is refused before any network I/O', async () => {
  const server = await startRecordingServer();
  try {
    const provider = new ApiKeyProvider('sk-test');
    // Loopback-ish addresses the binary refuses, all pointing at our server.
    for (const base of [`ws://127.0.0.1:${server.port}/api`, `http://0.0.0.0:${server.port}/api`, `http://[::ffff:127.0.0.1]:${server.port}/`]) {
      await assert.rejects(
        probeRegistry(provider, new URL(base), 'cloud/environment/e1/register', {}),
        (err: unknown) => err instanceof AuthError && err.message === API_KEY_HOST_REFUSED && err.kind === 'config',
        base,
      );
    }
    assert.equal(server.seen.length, 0, 'the server must see nothing');
  } finally {
    await server.close();
  }
});

test('host rule matches the binary', () => {
  const provider = new ApiKeyProvider('k');
  const allowed = [
    'https://api.openai.com/', 'HTTPS://API.OPENAI.COM:1/', 'https://openai.org:1', 'https://a.b.openai.com',
    'http://127.0.0.1:1/', 'http://127.5.5.5:1/', 'http://localhost:1/api', 'http://[::1]:1/api', 'https://localhost/',
  ];
  const refused = [
    'http://example.invalid', 'https://example.invalid', 'http://api.openai.com', 'https://openai.com.evil:1',
    'https://x.openai.org.:1', 'http://foo.localhost:1/', 'ftp://api.openai.com:1', 'ws://127.0.0.1:1/',
    'http:///x', // both URL parsers make `x` the host
  ];
  for (const url of allowed) assert.doesNotThrow(() => provider.checkRegistryUrl(new URL(url)), url);
  for (const url of refused) assert.throws(() => provider.checkRegistryUrl(new URL(url)), { message: API_KEY_HOST_REFUSED }, url);
  for (const url of ['unix:/x', 'file:///x']) assert.throws(() => provider.checkRegistryUrl(new URL(url)), { message: REGISTRY_URL_NEEDS_HOST }, url);
});
