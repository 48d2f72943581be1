import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { nativePathFromBytes, toPathUri } from '../protocol/path-uri.ts';
import { toRpcError } from './fs-errors.ts';
import { baseName, checkNoFollowAncestors, childUri, compareCodePoints, isSelfOrAncestor, joinPath, lossyName, parentPath } from './fs-paths.ts';
import { tempDir } from './test-support.ts';

test('childUri is toPathUri of the joined path, for every kind of name', () => {
  const names = [
    'plain.txt',
    'a b',
    '%41',
    'q?#',
    "!$&'()*+,-.:;=@[]^_|~",
    '\u00e9t\u00e9',
    '\u{1f600}',
    '\ufffd',
    '"<>\\`{}',
    nativePathFromBytes(Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe])),
    '..x',
  ];
  for (const dir of ['/', '/tmp', '/a b/c']) {
    for (const name of names) assert.equal(childUri(toPathUri(dir), name), toPathUri(joinPath(dir, name)), `${dir} + ${JSON.stringify(name)}`);
  }
});

test('path helpers', () => {
  assert.equal(joinPath('/', 'a'), '/a');
  assert.equal(joinPath('/a', 'b'), '/a/b');
  assert.equal(parentPath('/'), null);
  assert.equal(parentPath('/a'), '/');
  assert.equal(parentPath('/a/b'), '/a');
  assert.equal(baseName('/a/b'), 'b');
  assert.ok(isSelfOrAncestor('/a', '/a/b'));
  assert.ok(isSelfOrAncestor('/a', '/a'));
  assert.ok(isSelfOrAncestor('/', '/x'));
  assert.ok(!isSelfOrAncestor('/a', '/ab'));
  assert.equal(lossyName(Buffer.from([0x61, 0xff, 0xfe, 0x62])), 'a\ufffd\ufffdb');
  assert.equal(lossyName(Buffer.from([0xe2, 0x82])), '\ufffd'); // one maximal subpart, as Rust does
  // Code point order, not UTF-16 order: an astral character sorts after U+FFFD.
  assert.deepEqual(['\u{1f600}', '\ufffd', 'z', '\u00e9'].sort(compareCodePoints), ['z', '\u00e9', '\ufffd', '\u{1f600}']);
});

test('checkNoFollowAncestors refuses symlinks and files on the way, like openat(O_NOFOLLOW|O_DIRECTORY)', async () => {
  const t = tempDir('paths-');
  try {
    mkdirSync(`${t.dir}/dir`);
    writeFileSync(`${t.dir}/file`, '');
    symlinkSync(`${t.dir}/dir`, `${t.dir}/link`);
    await checkNoFollowAncestors(`${t.dir}/dir/anything`);
    await checkNoFollowAncestors(`${t.dir}/link`); // the last component is not checked
    const code = async (path: string) => {
      try {
        await checkNoFollowAncestors(path);
        return 'ok';
      } catch (err) {
        return toRpcError(err).message;
      }
    };
    assert.equal(await code(`${t.dir}/link/x`), 'Not a directory (os error 20)');
    assert.equal(await code(`${t.dir}/file/x`), 'Not a directory (os error 20)');
    assert.equal(await code(`${t.dir}/missing/x`), 'No such file or directory (os error 2)');
  } finally {
    t.cleanup();
  }
});
