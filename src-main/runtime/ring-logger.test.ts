import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEntry } from '../control/contract.ts';
import { RingLogger } from './ring-logger.ts';
import { REDACTED, Redactor } from './redact.ts';

test('the ring keeps the last entries in order and tells subscribers', () => {
  const seen: LogEntry[] = [];
  const log = new RingLogger({ capacity: 3 });
  log.subscribe((e) => seen.push(e));
  for (let i = 1; i <= 5; i++) log.info(`m${i}`, { i });
  log.debug('not kept at info level');
  assert.deepEqual(log.entries().map((e) => e.message), ['m3', 'm4', 'm5']);
  assert.deepEqual(log.entries().map((e) => e.seq), [3, 4, 5]);
  assert.equal(seen.length, 5);
  assert.deepEqual(seen[4]!.fields, { i: 5 });
});

test('everything credential-like is redacted before the ring, the subscribers or the sink see it', () => {
  const lines: string[] = [];
  const sink = {
    error: (m: string, f?: Record<string, unknown>) => lines.push(m + JSON.stringify(f ?? {})),
    warn: (m: string, f?: Record<string, unknown>) => lines.push(m + JSON.stringify(f ?? {})),
    info: (m: string, f?: Record<string, unknown>) => lines.push(m + JSON.stringify(f ?? {})),
    debug: (m: string, f?: Record<string, unknown>) => lines.push(m + JSON.stringify(f ?? {})),
  };
  const log = new RingLogger({ sink });
  log.redactor.addSecret('exact-secret-value');
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
  const secrets = [
    'sk-proj-abcdefghijklmnop1234',
    jwt,
    'Zm9vYmFyYmF6cXV4cXV1eGZvb2JhcmJhenF1eHF1dXhmb28',
    'exact-secret-value',
    'hunter2hunter2',
    'plain-token-value',
  ];
  log.info(`Authorization: Bearer ${secrets[0]} and ${jwt}`, {
    apiKey: 'anything at all',
    accessToken: 'x',
    url: `https://h.test/cb?code=1&token=${secrets[5]}#frag`,
    blob: secrets[2],
    nested: { password: secrets[4], note: 'exact-secret-value' },
    count: 3,
    ok: true,
    none: null,
  });
  log.warn(`password=${secrets[4]} api_key: ${secrets[5]}`);
  const everything = JSON.stringify(log.entries()) + lines.join('\n');
  for (const secret of secrets) assert.ok(!everything.includes(secret), `leaked ${secret}`);
  const fields = log.entries()[0]!.fields!;
  assert.equal(fields.apiKey, REDACTED);
  assert.equal(fields.accessToken, REDACTED);
  assert.equal(fields.count, 3);
  assert.equal(fields.ok, true);
  assert.equal(fields.none, null);
  assert.match(String(fields.url), /code=1/);
  assert.match(log.entries()[0]!.message, /^Authorization: Bearer \[redacted\] and \[redacted\]$/);
});

test('ordinary text survives redaction', () => {
  const r = new Redactor();
  for (const text of [
    'listening on ws://127.0.0.1:4242',
    'session 3f2a9c1e-0d4b-4a55-9d2f-7a1c0e5b9d11 detached',
    'process p1 exited with code 0 after 12 ms',
    'cwd /home/user/project/src/very/long/path/to/somewhere/deep/inside',
  ]) {
    assert.equal(r.text(text), text);
  }
  assert.equal(r.knownOnly('git 0123456789abcdef0123456789abcdef01234567'), 'git 0123456789abcdef0123456789abcdef01234567', 'process output keeps hashes');
});
