import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeStorageSecretBox, type SafeStorageLike } from './secret-box.ts';

function fake(available: boolean, backend = 'gnome_libsecret'): SafeStorageLike {
  return {
    isEncryptionAvailable: () => available,
    encryptString: (t) => Buffer.from([...Buffer.from(t)].reverse()),
    decryptString: (b) => Buffer.from([...b].reverse()).toString(),
    getSelectedStorageBackend: () => backend,
  };
}

test('round-trips through safeStorage', () => {
  const box = safeStorageSecretBox(fake(true));
  assert.equal(box.available(), true);
  const sealed = box.encrypt('sk-secret');
  assert.notEqual(sealed.toString(), 'sk-secret');
  assert.equal(box.decrypt(sealed), 'sk-secret');
});

test('is unavailable without encryption or with the plain-text Linux backend', () => {
  assert.equal(safeStorageSecretBox(fake(false)).available(), false);
  assert.equal(safeStorageSecretBox(fake(true, 'basic_text'), 'linux').available(), false);
  assert.equal(safeStorageSecretBox(fake(true, 'basic_text'), 'darwin').available(), true);
});
