import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PathUri, PathUriError } from '../protocol/path-uri.ts';
import { RpcError } from '../rpc/errors.ts';
import { codeForKind, FsFailure, osError, toRpcError } from './fs-errors.ts';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected a throw');
}

test('errno classes map to the §7.1 codes with Rust texts', () => {
  assert.equal(codeForKind('NotFound'), -32004);
  assert.equal(codeForKind('InvalidInput'), -32600);
  assert.equal(codeForKind('PermissionDenied'), -32600);
  assert.equal(codeForKind('Other'), -32603);
  const cases: Array<[string, number, string]> = [
    ['ENOENT', -32004, 'No such file or directory (os error 2)'],
    ['EACCES', -32600, 'Permission denied (os error 13)'],
    ['EPERM', -32600, 'Operation not permitted (os error 1)'],
    ['EINVAL', -32600, 'Invalid argument (os error 22)'],
    ['EISDIR', -32603, 'Is a directory (os error 21)'],
    ['EEXIST', -32603, 'File exists (os error 17)'],
    ['ENOTEMPTY', -32603, 'Directory not empty (os error 39)'],
    ['ELOOP', -32603, 'Symbolic link loop (os error 40)'],
    ['EBADF', -32603, 'Bad file descriptor (os error 9)'],
    ['EFBIG', -32603, 'File too large (os error 27)'],
    ['ENXIO', -32603, 'No such device or address (os error 6)'],
    ['EROFS', -32603, 'Read-only file system (os error 30)'],
    ['EBUSY', -32603, 'Resource busy (os error 16)'],
  ];
  for (const [code, rpc, message] of cases) {
    const e = toRpcError(osError(code));
    assert.deepEqual([e.code, e.message], [rpc, message], code);
  }
  const real = toRpcError(thrown(() => readFileSync('/nonexistent/exec-desk')));
  assert.deepEqual([real.code, real.message], [-32004, 'No such file or directory (os error 2)']);
});

test('server-made failures, host URIs and unexpected errors', () => {
  assert.deepEqual([toRpcError(new FsFailure('InvalidInput', 'path is not a regular file')).code], [-32600]);
  assert.deepEqual([toRpcError(new FsFailure('Other', 'recursive no-follow removal is unsupported')).code], [-32603]);
  const host = thrown(() => PathUri.parse('file://host/x').toNativePath());
  assert.ok(host instanceof PathUriError);
  assert.deepEqual([toRpcError(host).code, toRpcError(host).message], [-32600, "'file://host/x' is invalid on 'linux'"]);
  const rpc = new RpcError(-32004, 'unknown file handle `h`');
  assert.equal(toRpcError(rpc), rpc);
  assert.deepEqual([toRpcError(new Error('boom')).code, toRpcError(new Error('boom')).message], [-32603, 'boom']);
});
