import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { openTaskIdBox } from './sealed-box.ts';
import { sealTaskId } from './testing/seal-task-id.ts';

// The sealing side was checked against the 0.169.0 binary (reference-parity.test.ts, case f):
// the binary opened our box and used the task id in its assertion.
test('a sealed task id opens with the right key only, and not when tampered with', () => {
  const key = generateKeyPairSync('ed25519').privateKey;
  const other = generateKeyPairSync('ed25519').privateKey;
  const sealed = sealTaskId('task-ü-1', key);
  assert.equal(openTaskIdBox(sealed, key), 'task-ü-1');
  assert.equal(openTaskIdBox(sealed, other), null);
  const bytes = Buffer.from(sealed, 'base64');
  bytes[bytes.length - 1]! ^= 1;
  assert.equal(openTaskIdBox(bytes.toString('base64'), key), null);
  assert.equal(openTaskIdBox('AAAA', key), null);
});
