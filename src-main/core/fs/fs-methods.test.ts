import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, symlinkSync, existsSync } from 'node:fs';
import { FsServer, sleep, tempDir } from './test-support.ts';

const STRUCTS: Array<[string, string, number]> = [
  ['fs/readFile', 'WireFsReadFileParams', 3],
  ['fs/writeFile', 'WireFsWriteFileParams', 4],
  ['fs/createDirectory', 'WireFsCreateDirectoryParams', 4],
  ['fs/getMetadata', 'WireFsGetMetadataParams', 3],
  ['fs/canonicalize', 'WireFsCanonicalizeParams', 2],
  ['fs/readDirectory', 'WireFsReadDirectoryParams', 2],
  ['fs/walk', 'WireFsWalkParams', 3],
  ['fs/remove', 'WireFsRemoveParams', 5],
  ['fs/copy', 'WireFsCopyParams', 4],
  ['fs/open', 'WireFsOpenParams', 4],
  ['fs/readBlock', 'FsReadBlockParams', 3],
  ['fs/writeBlock', 'FsWriteBlockParams', 3],
  ['fs/close', 'FsCloseParams', 1],
  ['fs/watchMissing', 'FsWatchMissingParams', 3],
];

const restricted = {
  permissions: { type: 'managed', file_system: { type: 'restricted', entries: [] }, network: 'restricted' },
  windowsSandboxLevel: 'disabled',
};

test('params: the reference struct names, field positions, defaults and texts (before initialize too)', async () => {
  const server = new FsServer();
  const c = await server.connect(false);
  try {
    for (const [method, name, fields] of STRUCTS) {
      assert.deepEqual(await c.err(method, null), { code: -32602, message: `invalid type: null, expected struct ${name}` }, method);
      assert.deepEqual(await c.err(method, []), { code: -32602, message: `invalid length 0, expected struct ${name} with ${fields} element${fields === 1 ? '' : 's'}` });
    }
    const u = 'file:///tmp/x';
    const params: Array<[string, unknown, string]> = [
      ['fs/readFile', [u], 'invalid length 2, expected struct WireFsReadFileParams with 3 elements'],
      ['fs/readFile', [u, 'str'], 'invalid type: string "str", expected a boolean'],
      ['fs/readFile', [u, true, 'str'], 'invalid type: string "str", expected struct WireFileSystemSandboxContext'],
      ['fs/readFile', { path: u, sandbox: {} }, 'missing field `permissions`'],
      ['fs/readFile', { path: '/abs' }, 'invalid URI: relative URL without a base'],
      ['fs/readFile', { path: 'http://x/' }, 'unsupported path URI scheme `http`'],
      ['fs/readFile', { path: 'file:///a#f' }, 'fragments are not allowed in path URIs'],
      ['fs/writeFile', [u], 'invalid length 1, expected struct WireFsWriteFileParams with 4 elements'],
      ['fs/writeFile', [u, 'not base64'], 'invalid length 3, expected struct WireFsWriteFileParams with 4 elements'],
      ['fs/writeFile', { path: u, dataBase64: null }, 'invalid type: null, expected a string'],
      ['fs/createDirectory', [u], 'invalid length 1, expected struct WireFsCreateDirectoryParams with 4 elements'],
      ['fs/createDirectory', { path: u, recursive: 'x' }, 'invalid type: string "x", expected a boolean'],
      ['fs/remove', [u, true, true], 'invalid length 4, expected struct WireFsRemoveParams with 5 elements'],
      ['fs/copy', { sourcePath: u, destinationPath: u }, 'missing field `recursive`'],
      ['fs/copy', { sourcePath: u, destinationPath: u, recursive: null }, 'invalid type: null, expected a boolean'],
      ['fs/walk', { path: u }, 'missing field `options`'],
      ['fs/walk', { path: u, options: [1, 1, 1] }, 'invalid length 3, expected struct WalkOptions with 5 elements'],
      ['fs/walk', { path: u, options: { maxDepth: 1, maxDirectories: 1, maxEntries: 1, followDirectorySymlinks: false, pruneHiddenDirectories: null } }, 'invalid type: null, expected a boolean'],
      ['fs/walk', { path: u, options: { maxDepth: -1, maxDirectories: 1, maxEntries: 1, followDirectorySymlinks: false } }, 'invalid number'],
      ['fs/open', ['h', u], 'invalid length 3, expected struct WireFsOpenParams with 4 elements'],
      ['fs/open', { handleId: 'h', path: u, mode: 'append' }, 'unknown variant `append`, expected `read` or `replace`'],
      ['fs/open', { handleId: 'h', path: u, mode: null }, 'invalid type: null, expected string or map'],
      ['fs/readBlock', { handleId: 'h', offset: -1, len: 1 }, 'invalid number'],
      ['fs/readBlock', { handleId: 'h', offset: 0 }, 'missing field `len`'],
      ['fs/writeBlock', { handleId: 'h', offset: 0, chunk: 'not base64!' }, 'Invalid symbol 32, offset 3.'],
      ['fs/watchMissing', { watchId: -1, missing: [] }, 'invalid number'],
      ['fs/watchMissing', [1, [u], 'str'], 'invalid URI: relative URL without a base'],
    ];
    for (const [method, p, message] of params) assert.deepEqual(await c.err(method, p), { code: -32602, message }, `${method} ${JSON.stringify(p)}`);
    // Decodable params are then gated.
    assert.deepEqual(await c.err('fs/readFile', { path: u, followSymlinks: null, sandbox: null }), {
      code: -32600,
      message: 'client must call initialize before using filesystem methods',
    });
    assert.deepEqual(await c.err('fs/open', { handleId: 'h', path: u, mode: { replace: null } }), {
      code: -32600,
      message: 'client must call initialize before using filesystem methods',
    });
  } finally {
    c.close();
    await server.shutdown();
  }
});

test('every method end to end, with the error classes on the wire', async () => {
  const server = new FsServer();
  const c = await server.connect();
  const t = tempDir('methods-');
  const u = t.uri;
  try {
    writeFileSync(`${t.dir}/hello.txt`, 'hello world\n');
    symlinkSync(`${t.dir}/hello.txt`, `${t.dir}/link`);
    assert.deepEqual(await c.ok('fs/readFile', { path: u('hello.txt') }), { dataBase64: 'aGVsbG8gd29ybGQK' });
    assert.deepEqual(await c.ok('fs/readFile', { path: `${u()}/dir/../hello.txt` }), { dataBase64: 'aGVsbG8gd29ybGQK' });
    assert.deepEqual(await c.err('fs/readFile', { path: u('missing') }), { code: -32004, message: 'No such file or directory (os error 2)' });
    assert.deepEqual(await c.err('fs/readFile', { path: u('link'), followSymlinks: false }), { code: -32603, message: 'Symbolic link loop (os error 40)' });
    assert.deepEqual(await c.err('fs/readFile', { path: 'file://host/x' }), { code: -32600, message: "'file://host/x' is invalid on 'linux'" });
    assert.deepEqual(await c.err('fs/readFile', { path: 'file:///C:/x' }), { code: -32600, message: "'file:///C:/x' is invalid on 'linux'" });

    assert.deepEqual(await c.ok('fs/writeFile', { path: u('new.bin'), dataBase64: Buffer.from([0, 255, 1]).toString('base64') }), {});
    assert.deepEqual(readFileSync(`${t.dir}/new.bin`), Buffer.from([0, 255, 1]));
    assert.deepEqual(await c.err('fs/writeFile', { path: u('x'), dataBase64: 'not base64!' }), {
      code: -32600,
      message: 'fs/writeFile requires valid base64 dataBase64: Invalid symbol 32, offset 3.',
    });
    assert.deepEqual(await c.err('fs/writeFile', { path: 'file://host/x', dataBase64: '!!' }), {
      code: -32600,
      message: 'fs/writeFile requires valid base64 dataBase64: Invalid symbol 33, offset 0.',
    });

    assert.deepEqual(await c.ok('fs/createDirectory', { path: u('d/e') }), {});
    assert.deepEqual(await c.err('fs/createDirectory', { path: u('d/e'), recursive: false }), { code: -32603, message: 'File exists (os error 17)' });
    const meta = await c.ok('fs/getMetadata', { path: u('link') });
    assert.deepEqual(Object.keys(meta), ['isDirectory', 'isFile', 'isSymlink', 'size', 'createdAtMs', 'modifiedAtMs']);
    assert.deepEqual({ ...meta, modifiedAtMs: 0 }, { isDirectory: false, isFile: true, isSymlink: true, size: 12, createdAtMs: 0, modifiedAtMs: 0 });
    assert.deepEqual(await c.err('fs/getMetadata', { path: u('link'), followSymlinks: false }), { code: -32600, message: 'path contains a symbolic link' });
    assert.deepEqual(await c.ok('fs/canonicalize', { path: u('link') }), { path: u('hello.txt') });
    const listing = await c.ok('fs/readDirectory', { path: u() });
    assert.deepEqual(listing.entries.map((e: any) => e.fileName).sort(), ['d', 'hello.txt', 'link', 'new.bin']);
    const walked = await c.ok('fs/walk', { path: u(), options: { maxDepth: 5, maxDirectories: 10, maxEntries: 10, followDirectorySymlinks: false } });
    assert.deepEqual(walked, {
      entries: [
        { path: u('d'), kind: 'directory' },
        { path: u('hello.txt'), kind: 'file' },
        { path: u('new.bin'), kind: 'file' },
        { path: u('d/e'), kind: 'directory' },
      ],
      errors: [],
      truncated: false,
    });
    assert.deepEqual(await c.err('fs/walk', { path: 'file://host/x', options: { maxDepth: 0, maxDirectories: 0, maxEntries: 1, followDirectorySymlinks: false } }), {
      code: -32600,
      message: 'filesystem walk limits must be greater than zero',
    });
    assert.deepEqual(await c.ok('fs/copy', { sourcePath: u('d'), destinationPath: u('d2'), recursive: true }), {});
    assert.ok(existsSync(`${t.dir}/d2/e`));
    assert.deepEqual(await c.err('fs/copy', { sourcePath: u('d'), destinationPath: u('d/in'), recursive: true }), {
      code: -32600,
      message: 'fs/copy cannot copy a directory to itself or one of its descendants',
    });
    assert.deepEqual(await c.ok('fs/remove', { path: u('d2') }), {});
    assert.deepEqual(await c.ok('fs/remove', { path: u('d2') }), {});
    assert.deepEqual(await c.err('fs/remove', { path: u('d2'), force: false }), { code: -32004, message: 'No such file or directory (os error 2)' });
    assert.deepEqual(await c.err('fs/remove', { path: u('d'), followSymlinks: false }), { code: -32603, message: 'recursive no-follow removal is unsupported' });
  } finally {
    c.close();
    t.cleanup();
    await server.shutdown();
  }
});

test('file handles over the wire: per connection, gone with it, 128 at most', async () => {
  const server = new FsServer();
  const c1 = await server.connect();
  const c2 = await server.connect();
  const t = tempDir('methods-');
  try {
    writeFileSync(`${t.dir}/f`, 'hello world\n');
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    assert.deepEqual(await c1.ok('fs/open', { handleId: 'h1', path: t.uri('f') }), { handleId: 'h1' });
    assert.deepEqual(await c1.ok('fs/readBlock', { handleId: 'h1', offset: 0, len: 5 }), { chunk: 'aGVsbG8=', eof: false });
    assert.deepEqual(await c1.ok('fs/readBlock', { handleId: 'h1', offset: 6, len: 100 }), { chunk: 'd29ybGQK', eof: true });
    assert.deepEqual(await c2.err('fs/readBlock', { handleId: 'h1', offset: 0, len: 5 }), { code: -32004, message: 'unknown file handle `h1`' });
    assert.deepEqual(await c2.ok('fs/close', { handleId: 'h1' }), {});
    assert.deepEqual(await c1.ok('fs/readBlock', { handleId: 'h1', offset: 0, len: 1 }), { chunk: 'aA==', eof: false });
    assert.deepEqual(await c1.err('fs/open', { handleId: 'x'.repeat(33), path: 'file://host/x' }), { code: -32600, message: 'file handle ID must not exceed 32 bytes' });
    assert.deepEqual(await c1.err('fs/open', { handleId: 'h1', path: 'file://host/x' }), { code: -32600, message: 'file handle `h1` already exists' });
    assert.deepEqual(await c1.err('fs/open', { handleId: 'h2', path: 'file://host/x' }), { code: -32600, message: "'file://host/x' is invalid on 'linux'" });
    assert.deepEqual(await c1.ok('fs/open', { handleId: 'w', path: t.uri('w'), mode: 'replace' }), { handleId: 'w' });
    assert.deepEqual(await c1.ok('fs/writeBlock', { handleId: 'w', offset: 0, chunk: 'aGVsbG8=' }), {});
    assert.deepEqual(await c1.err('fs/writeBlock', { handleId: 'w', offset: 0, chunk: '' }), { code: -32600, message: 'file write block length must be between 1 and 1048576' });
    assert.equal(readFileSync(`${t.dir}/w`, 'utf8'), 'hello');
    for (let i = 2; i < 128; i++) await c1.ok('fs/open', { handleId: `h${i}`, path: t.uri('f') });
    assert.deepEqual(await c1.err('fs/open', { handleId: 'h128', path: t.uri('f') }), { code: -32600, message: 'at most 128 file handles may be open per connection' });
    assert.equal(fds(), before + 128);
    c1.close();
    await sleep(50);
    assert.equal(fds(), before);
  } finally {
    c2.close();
    t.cleanup();
    await server.shutdown();
  }
});

test('fs/watchMissing sends fs/missingChanged once, on its own connection, and dies with it', async () => {
  const server = new FsServer();
  const c1 = await server.connect();
  const c2 = await server.connect();
  const t = tempDir('methods-');
  try {
    assert.deepEqual(await c1.ok('fs/watchMissing', { watchId: 10, missing: [t.uri('p1')] }), { watching: true });
    assert.deepEqual(await c2.ok('fs/watchMissing', { watchId: 1, missing: [t.uri('p2')] }), { watching: true });
    assert.deepEqual(await c1.ok('fs/watchMissing', { watchId: 11, missing: ['file://host/x'] }), { watching: false });
    assert.deepEqual(await c1.ok('fs/watchMissing', { watchId: 12, missing: [t.uri('p1')] }), { watching: true });
    writeFileSync(`${t.dir}/p1`, '');
    await c1.pipe.next((m) => m.method === 'fs/missingChanged');
    await sleep(100);
    assert.deepEqual(c1.notifications('fs/missingChanged'), [{ method: 'fs/missingChanged', params: { watchId: 12 } }]);
    assert.deepEqual(c2.notifications('fs/missingChanged'), []);
    assert.deepEqual(await c1.ok('fs/watchMissing', { watchId: 12, missing: [t.uri('p3')] }), { watching: false });
    c2.close();
    mkdirSync(`${t.dir}/p2`);
    await sleep(150);
    assert.deepEqual(c2.notifications('fs/missingChanged'), []);
  } finally {
    c1.close();
    t.cleanup();
    await server.shutdown();
  }
});

test('sandbox: policies that restrict files are refused; others run as usual', async () => {
  const server = new FsServer();
  const c = await server.connect();
  const t = tempDir('methods-');
  try {
    writeFileSync(`${t.dir}/f`, 'x');
    const refused = (what: string) => ({
      code: -32600,
      message: `exec-desk cannot enforce the requested sandbox (restricted file system access); refusing to ${what} without it`,
    });
    const u = t.uri('f');
    const cases: Array<[string, unknown, string]> = [
      ['fs/readFile', { path: u, sandbox: restricted }, 'read the file'],
      ['fs/writeFile', { path: u, dataBase64: '', sandbox: restricted }, 'write the file'],
      ['fs/createDirectory', { path: t.uri('d'), sandbox: restricted }, 'create the directory'],
      ['fs/getMetadata', { path: u, sandbox: restricted }, 'read the metadata'],
      ['fs/canonicalize', { path: u, sandbox: restricted }, 'canonicalize the path'],
      ['fs/readDirectory', { path: t.uri(), sandbox: restricted }, 'read the directory'],
      ['fs/walk', { path: t.uri(), options: { maxDepth: 1, maxDirectories: 1, maxEntries: 1, followDirectorySymlinks: false }, sandbox: restricted }, 'walk the directory'],
      ['fs/remove', { path: u, sandbox: restricted }, 'remove the path'],
      ['fs/copy', { sourcePath: u, destinationPath: t.uri('g'), recursive: false, sandbox: restricted }, 'copy'],
      ['fs/open', { handleId: 'h', path: u, sandbox: restricted }, 'open the file'],
    ];
    for (const [method, params, what] of cases) assert.deepEqual(await c.err(method, params), refused(what), method);
    assert.equal(readFileSync(`${t.dir}/f`, 'utf8'), 'x');
    assert.equal(existsSync(`${t.dir}/d`), false);

    const open = [
      { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'external', network: 'enabled' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'external', network: 'restricted' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'managed', file_system: { type: 'unrestricted' }, network: 'enabled' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'managed', file_system: { type: 'unrestricted' }, network: 'restricted' }, windowsSandboxLevel: 'disabled' },
    ];
    for (const sandbox of open) assert.deepEqual(await c.ok('fs/readFile', { path: u, sandbox }), { dataBase64: 'eA==' }, JSON.stringify(sandbox));
    assert.deepEqual(await c.err('fs/readFile', { path: u, sandbox: { permissions: { type: 'bogus' }, windowsSandboxLevel: 'disabled' } }), {
      code: -32602,
      message: 'unknown variant `bogus`, expected one of `managed`, `disabled`, `external`',
    });
  } finally {
    c.close();
    t.cleanup();
    await server.shutdown();
  }
});

test('with --concurrent-requests, in-flight opens count toward the 128 handles', async () => {
  const server = new FsServer(8);
  const c = await server.connect();
  const t = tempDir('methods-');
  try {
    writeFileSync(`${t.dir}/f`, 'x');
    const replies = await Promise.all(Array.from({ length: 130 }, (_, i) => c.call('fs/open', { handleId: `h${i}`, path: t.uri('f') })));
    assert.equal(replies.filter((r) => r.result).length, 128);
    const refused = replies.filter((r) => r.error);
    assert.deepEqual(refused.map((r) => r.error), Array(2).fill({ code: -32600, message: 'at most 128 file handles may be open per connection' }));
    // Reads on many handles at once.
    const reads = replies.filter((r) => r.result).map((r) => c.ok('fs/readBlock', { handleId: r.result.handleId, offset: 0, len: 1 }));
    assert.ok((await Promise.all(reads)).every((r) => r.chunk === 'eA==' && r.eof === false));
  } finally {
    c.close();
    t.cleanup();
    await server.shutdown();
  }
});
