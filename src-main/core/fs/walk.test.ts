import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { toRpcError } from './fs-errors.ts';
import { validateWalkLimits, walk, type WalkOptions, type WalkResult } from './walk.ts';
import { bytesPath, tempDir } from './test-support.ts';

function options(over: Partial<WalkOptions> = {}): WalkOptions {
  return { maxDepth: 10, maxDirectories: 100, maxEntries: 100, followDirectorySymlinks: false, pruneHiddenDirectories: false, ...over };
}

/** Entries as `rel:kind` relative to `root`. */
function short(result: WalkResult, rootUri: string): string[] {
  return result.entries.map((e) => `${e.path.slice(rootUri.length + 1)}:${e.kind[0]}`);
}

function tree() {
  const t = tempDir('walk-');
  const d = t.dir;
  const mk = (p: string) => mkdirSync(`${d}/${p}`, { recursive: true });
  const wf = (p: string) => writeFileSync(`${d}/${p}`, p);
  mk('b/c/d/e');
  mk('a/x');
  mk('.hid/inner');
  wf('z.txt');
  wf('a/f1');
  wf('a/x/f2');
  wf('b/c/d/e/deep');
  wf('.hid/inner/h');
  wf('.hfile');
  wf('B.txt');
  wf('_u');
  symlinkSync(`${d}/a`, `${d}/la`);
  symlinkSync(`${d}/z.txt`, `${d}/lz`);
  symlinkSync(`${d}/b/c`, `${d}/lc`);
  symlinkSync('/nonexistent-target', `${d}/ldang`);
  symlinkSync(d, `${d}/a/lroot`);
  return t;
}

test('breadth-first, names sorted per directory, symlinks skipped, depth limit', async () => {
  const t = tree();
  try {
    const root = t.uri();
    assert.deepEqual(short(await walk(t.dir, options()), root), [
      '.hfile:f', '.hid:d', 'B.txt:f', '_u:f', 'a:d', 'b:d', 'z.txt:f',
      '.hid/inner:d', 'a/f1:f', 'a/x:d', 'b/c:d',
      '.hid/inner/h:f', 'a/x/f2:f', 'b/c/d:d',
      'b/c/d/e:d',
      'b/c/d/e/deep:f',
    ]);
    assert.deepEqual(short(await walk(t.dir, options({ maxDepth: 0 })), root), ['.hfile:f', '.hid:d', 'B.txt:f', '_u:f', 'a:d', 'b:d', 'z.txt:f']);
    assert.deepEqual(short(await walk(t.dir, options({ maxDepth: 1 })), root).slice(7), ['.hid/inner:d', 'a/f1:f', 'a/x:d', 'b/c:d']);
    const pruned = short(await walk(t.dir, options({ pruneHiddenDirectories: true })), root);
    assert.ok(pruned.includes('.hid:d'));
    assert.ok(!pruned.some((e) => e.startsWith('.hid/')));
  } finally {
    t.cleanup();
  }
});

test('followDirectorySymlinks lists links to directories and walks each canonical directory once', async () => {
  const t = tree();
  try {
    const root = t.uri();
    assert.deepEqual(short(await walk(t.dir, options({ followDirectorySymlinks: true })), root), [
      '.hfile:f', '.hid:d', 'B.txt:f', '_u:f', 'a:d', 'b:d', 'la:d', 'lc:d', 'z.txt:f',
      '.hid/inner:d', 'a/f1:f', 'a/lroot:d', 'a/x:d', 'b/c:d', 'lc/d:d',
      '.hid/inner/h:f', 'a/x/f2:f', 'lc/d/e:d',
      'lc/d/e/deep:f',
    ]);
    // A symlinked root: listed under the link's path; following it back to the tree works once.
    const viaLink = short(await walk(`${t.dir}/la`, options({ followDirectorySymlinks: true })), `${root}/la`);
    assert.deepEqual(viaLink.slice(0, 3), ['f1:f', 'lroot:d', 'x:d']);
    assert.ok(viaLink.includes('lroot/a:d') && !viaLink.some((e) => e.startsWith('lroot/a/')));
    assert.deepEqual(await walk(`${t.dir}/la`, options()), { entries: [], errors: [], truncated: false });
    assert.deepEqual(await walk(`${t.dir}/z.txt`, options()), { entries: [], errors: [], truncated: false });
  } finally {
    t.cleanup();
  }
});

test('maxEntries counts files, directories, links and special files, not unreachable links', async () => {
  const t = tempDir('walk-');
  const d = t.dir;
  try {
    const mk = (p: string) => mkdirSync(`${d}/${p}`, { recursive: true });
    const wf = (p: string) => writeFileSync(`${d}/${p}`, p);
    mk('t1');
    wf('t1/a');
    wf('t1/b');
    wf('t1/c');
    assert.equal((await walk(`${d}/t1`, options({ maxEntries: 3 }))).truncated, false);
    assert.deepEqual(short(await walk(`${d}/t1`, options({ maxEntries: 2 })), t.uri('t1')), ['a:f', 'b:f']);
    assert.equal((await walk(`${d}/t1`, options({ maxEntries: 2 }))).truncated, true);

    mk('fifo');
    execFileSync('mkfifo', [`${d}/fifo/0fifo`]);
    wf('fifo/a');
    wf('fifo/b');
    assert.deepEqual(await walk(`${d}/fifo`, options({ maxEntries: 2 })), { entries: [{ path: t.uri('fifo/a'), kind: 'file' }], errors: [], truncated: true });

    mk('links/d');
    symlinkSync(`${d}/links/d`, `${d}/links/0ld`);
    wf('links/a');
    assert.deepEqual(short(await walk(`${d}/links`, options({ maxEntries: 2 })), t.uri('links')), ['a:f']);
    assert.deepEqual(short(await walk(`${d}/links`, options({ maxEntries: 2, followDirectorySymlinks: true })), t.uri('links')), ['0ld:d', 'a:f']);

    mk('dang');
    symlinkSync('/nonexistent-target', `${d}/dang/0dang`);
    wf('dang/a');
    wf('dang/b');
    symlinkSync('/nonexistent-target', `${d}/dang/zdang`);
    assert.deepEqual(await walk(`${d}/dang`, options({ maxEntries: 2 })), {
      entries: [
        { path: t.uri('dang/a'), kind: 'file' },
        { path: t.uri('dang/b'), kind: 'file' },
      ],
      errors: [],
      truncated: false,
    });
  } finally {
    t.cleanup();
  }
});

test('maxDirectories counts directories read; the root is the first', async () => {
  const t = tempDir('walk-');
  const d = t.dir;
  try {
    mkdirSync(`${d}/t2/a`, { recursive: true });
    mkdirSync(`${d}/t2/b`);
    writeFileSync(`${d}/t2/a/f`, '');
    assert.equal((await walk(`${d}/t2`, options({ maxDirectories: 3 }))).truncated, false);
    assert.deepEqual(short(await walk(`${d}/t2`, options({ maxDirectories: 2 })), t.uri('t2')), ['a:d', 'b:d', 'a/f:f']);
    assert.equal((await walk(`${d}/t2`, options({ maxDirectories: 2 }))).truncated, true);
    assert.equal((await walk(`${d}/t2`, options({ maxDirectories: 1 }))).truncated, true);
    assert.equal((await walk(`${d}/t2`, options({ maxDirectories: 1, maxDepth: 0 }))).truncated, false);
    // A second link to an already queued directory is not queued, so it does not count.
    mkdirSync(`${d}/t3/a`, { recursive: true });
    symlinkSync(`${d}/t3/a`, `${d}/t3/l1`);
    assert.equal((await walk(`${d}/t3`, options({ maxDirectories: 2, followDirectorySymlinks: true }))).truncated, false);
    assert.equal((await walk(`${d}/t3`, options({ maxDirectories: 1, followDirectorySymlinks: true }))).truncated, true);
  } finally {
    t.cleanup();
  }
});

test('names that are not UTF-8 are sorted and stat-ed in their lossy form (an error entry, as on the reference)', async () => {
  const t = tempDir('walk-');
  const d = t.dir;
  try {
    mkdirSync(bytesPath(d, '/d-', [0xff]));
    writeFileSync(`${d}/zz`, '');
    writeFileSync(bytesPath(d, '/', [0xc3]), ''); // lossy: U+FFFD, which exists as a real name too
    writeFileSync(`${d}/\u00e9`, '');
    writeFileSync(`${d}/\ufffd`, '');
    const result = await walk(d, options());
    assert.deepEqual(result.entries.map((e) => e.path.slice(t.uri().length + 1)), ['zz', '%C3%A9', '%EF%BF%BD', '%EF%BF%BD']);
    assert.deepEqual(result.errors, [{ path: `${t.uri()}/d-%EF%BF%BD`, message: 'No such file or directory (os error 2)' }]);
    // Errors count as entries.
    const limited = await walk(d, options({ maxEntries: 2 }));
    assert.equal(limited.entries.length, 1);
    assert.equal(limited.errors.length, 1);
    assert.equal(limited.truncated, true);
  } finally {
    t.cleanup();
  }
});

test('a 4 MiB output budget (URI length + 64 per entry) truncates big listings', async () => {
  const t = tempDir('walk-');
  try {
    const n = 30_000;
    const pad = 'x'.repeat(100);
    for (let i = 0; i < n; i++) writeFileSync(`${t.dir}/${pad}${i}`, '');
    const result = await walk(t.dir, options({ maxEntries: 50_000, maxDepth: 0 }));
    assert.equal(result.truncated, true);
    const cost = result.entries.reduce((sum, e) => sum + e.path.length + 64, 0);
    assert.ok(cost <= 4 * 1024 * 1024);
    const names = Array.from({ length: n }, (_, i) => `${pad}${i}`).sort();
    const next = `${t.uri()}/${names[result.entries.length]}`;
    assert.ok(cost + next.length + 64 > 4 * 1024 * 1024);
  } finally {
    t.cleanup();
  }
});

test('limits are validated with the reference texts; a missing root is the OS error', async () => {
  const message = (o: Partial<WalkOptions>) => {
    try {
      validateWalkLimits(options(o));
      return 'ok';
    } catch (err) {
      const e = toRpcError(err);
      return `${e.code} ${e.message}`;
    }
  };
  assert.equal(message({ maxDepth: 0 }), 'ok');
  assert.equal(message({ maxDepth: 64, maxDirectories: 10_000, maxEntries: 50_000 }), 'ok');
  assert.equal(message({ maxEntries: 0 }), '-32600 filesystem walk limits must be greater than zero');
  assert.equal(message({ maxDirectories: 0, maxDepth: 99 }), '-32600 filesystem walk limits must be greater than zero');
  for (const over of [{ maxDepth: 65 }, { maxDirectories: 10_001 }, { maxEntries: 50_001 }]) {
    assert.equal(message(over), '-32600 filesystem walk limits exceed maximums: depth=64, directories=10000, entries=50000');
  }
  const t = tempDir('walk-');
  try {
    symlinkSync('/nonexistent-target', `${t.dir}/dang`);
    for (const path of [`${t.dir}/missing`, `${t.dir}/dang`]) {
      await assert.rejects(walk(path, options()), (err: unknown) => toRpcError(err).code === -32004);
    }
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(walk(t.dir, options(), aborted.signal), /filesystem walk cancelled/);
  } finally {
    t.cleanup();
  }
});
