import { test } from 'node:test';
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { environmentInfo } from './environment-info.ts';

test('an empty HOME falls back to the passwd home instead of failing', () => {
  const saved = process.env.HOME;
  process.env.HOME = '';
  try {
    const info = environmentInfo();
    assert.equal(info.userHomeDir, `file://${userInfo().homedir}`);
  } finally {
    process.env.HOME = saved;
  }
});

test('reports the compatible executor version and every capability flag the reference knows', () => {
  const info = environmentInfo();
  assert.equal(info.executorVersion, '0.169.0');
  assert.equal(Object.keys(info.capabilities).length, 15);
  assert.match(info.providerId, /^sha256:[0-9a-f]{64}$/);
});
