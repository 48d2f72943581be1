import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lookupOsError, osErrorKind, osErrorMessage, osErrorRustKind } from './os-error.ts';

function thrown(fn: () => unknown): NodeJS.ErrnoException {
  try {
    fn();
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  assert.fail('expected a throw');
}

test('renders the texts the reference puts on the wire', () => {
  assert.equal(osErrorMessage('ENOENT'), 'No such file or directory (os error 2)');
  assert.equal(osErrorMessage('ENOEXEC'), 'Exec format error (os error 8)');
  assert.equal(osErrorMessage('EACCES'), 'Permission denied (os error 13)');
  assert.equal(osErrorMessage('ENOTDIR'), 'Not a directory (os error 20)');
  assert.equal(osErrorMessage('EISDIR'), 'Is a directory (os error 21)');
  assert.equal(osErrorMessage('EEXIST'), 'File exists (os error 17)');
  // musl texts, observed on the 0.169.0 binary (glibc would differ).
  assert.equal(osErrorMessage('ELOOP'), 'Symbolic link loop (os error 40)');
  assert.equal(osErrorMessage('ENAMETOOLONG'), 'Filename too long (os error 36)');
  assert.equal(osErrorMessage('EIO'), 'I/O error (os error 5)');
  assert.equal(osErrorMessage('EMFILE'), 'No file descriptors available (os error 24)');
});

test('accepts Node system errors, negative libuv errnos and plain numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'os-error-'));
  try {
    const enoent = thrown(() => readFileSync(join(dir, 'missing')));
    assert.equal(osErrorMessage(enoent), 'No such file or directory (os error 2)');
    symlinkSync('b', join(dir, 'a'));
    symlinkSync('a', join(dir, 'b'));
    assert.equal(osErrorMessage(thrown(() => readFileSync(join(dir, 'a')))), 'Symbolic link loop (os error 40)');
    writeFileSync(join(dir, 'f'), '');
    assert.equal(osErrorMessage(thrown(() => readFileSync(join(dir, 'f', 'x')))), 'Not a directory (os error 20)');
    assert.equal(osErrorMessage(thrown(() => readFileSync(dir))), 'Is a directory (os error 21)');
    mkdirSync(join(dir, 'd'));
    writeFileSync(join(dir, 'd', 'x'), '');
    assert.equal(osErrorMessage(thrown(() => rmdirSync(join(dir, 'd')))), 'Directory not empty (os error 39)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(osErrorMessage({ errno: -13 }), 'Permission denied (os error 13)');
  assert.equal(osErrorMessage(8), 'Exec format error (os error 8)');
  assert.equal(lookupOsError('EWOULDBLOCK')?.errno, lookupOsError('EAGAIN')?.errno);
});

test('unknown errnos and non-OS errors', () => {
  assert.equal(osErrorMessage(4000), 'No error information (os error 4000)');
  assert.equal(osErrorMessage(new Error('plain')), 'plain');
  assert.equal(osErrorMessage({ code: 'ERR_SOMETHING', message: 'node said so' }), 'node said so');
  assert.equal(osErrorKind(new Error('plain')), 'Other');
});

test('kinds follow Rust decode_error_kind', () => {
  assert.equal(osErrorKind('ENOENT'), 'NotFound');
  assert.equal(osErrorKind('EACCES'), 'PermissionDenied');
  assert.equal(osErrorKind('EPERM'), 'PermissionDenied');
  assert.equal(osErrorKind('EINVAL'), 'InvalidInput');
  for (const code of ['EISDIR', 'EEXIST', 'ENOTDIR', 'ENOTEMPTY', 'ELOOP', 'ENAMETOOLONG', 'EXDEV', 'ENOEXEC', 'EROFS', 'EBADF']) {
    assert.equal(osErrorKind(code), 'Other', code);
  }
  assert.equal(osErrorRustKind('EISDIR'), 'IsADirectory');
  assert.equal(osErrorRustKind('EXDEV'), 'CrossesDevices');
  assert.equal(osErrorRustKind('ETXTBSY'), 'ExecutableFileBusy');
});
