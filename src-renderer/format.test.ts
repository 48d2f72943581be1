import { test } from 'node:test';
import assert from 'node:assert/strict';
import { carrierLabel, formatArgv, formatBytes, formatCountdown, formatDuration, registrationLabel } from './format.ts';

test('formatBytes uses binary units', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(50 * 1024 * 1024), '50 MiB');
});

test('formatDuration and formatCountdown', () => {
  assert.equal(formatDuration(-5), '0s');
  assert.equal(formatDuration(42_900), '42s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
  assert.equal(formatCountdown(10_000, 10_000), 'now');
  assert.equal(formatCountdown(10_000, 2_500), 'in 8s');
});

test('carrierLabel names each carrier', () => {
  assert.equal(carrierLabel(null), 'none (detached)');
  assert.equal(carrierLabel({ kind: 'local', peer: '127.0.0.1:1' }), 'local websocket 127.0.0.1:1');
  assert.equal(carrierLabel({ kind: 'relay', streamId: '7' }), 'relay stream 7');
  assert.equal(carrierLabel({ kind: 'stdio' }), 'stdio');
});

test('registrationLabel and formatArgv', () => {
  assert.equal(registrationLabel('auth_needed'), 'Sign-in needed');
  assert.equal(formatArgv(['bash', '-c', "echo 'hi' there"]), `bash -c 'echo '\\''hi'\\'' there'`);
  assert.equal(formatArgv(['ls', '/tmp']), 'ls /tmp');
});
