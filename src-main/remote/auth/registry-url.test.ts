import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from './auth-provider.ts';
import { isLoopbackHostname, parseRegistryUrl } from './registry-url.ts';

test('parse errors use the reference wording', () => {
  const cases: Array<[string, string]> = [
    ['not a url', 'invalid remote exec-server registration URL: relative URL without a base'],
    ['https://', 'invalid remote exec-server registration URL: empty host'],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseRegistryUrl(input), (err: unknown) => err instanceof AuthError && err.message === message, input);
  }
  assert.equal(parseRegistryUrl('  http://127.0.0.1:9/api/  ').href, 'http://127.0.0.1:9/api/');
});

test('loopback hosts', () => {
  for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.255.0.9', '[::1]']) assert.equal(isLoopbackHostname(host), true, host);
  for (const host of ['0.0.0.0', '[::ffff:7f00:1]', 'foo.localhost', '128.0.0.1', '127.0.0.256', 'example.com']) {
    assert.equal(isLoopbackHostname(host), false, host);
  }
});
