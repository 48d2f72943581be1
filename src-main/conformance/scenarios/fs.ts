/**
 * Filesystem scenarios (§7): params decoding, every fs/* method with its success and error paths,
 * file handles, the missing-path watch, and sandbox handling. Fixtures are created in the run's
 * workdir (erased as <WORKDIR>) with the same names in the same order on both implementations, so
 * raw directory order compares equal too.
 *
 * Expected divergences: restricting sandbox policies (the reference confines the operation in its
 * Linux helper; exec-desk refuses it), and copying a file onto itself (the reference truncates the
 * file; exec-desk leaves it alone).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import type { Scenario, ScenarioContext, TracedClient } from '../harness.ts';
import type { WireMessage } from '../normalize.ts';

const METHODS_AND_STRUCTS: Array<[string, string]> = [
  ['fs/readFile', 'WireFsReadFileParams'],
  ['fs/writeFile', 'WireFsWriteFileParams'],
  ['fs/createDirectory', 'WireFsCreateDirectoryParams'],
  ['fs/getMetadata', 'WireFsGetMetadataParams'],
  ['fs/canonicalize', 'WireFsCanonicalizeParams'],
  ['fs/readDirectory', 'WireFsReadDirectoryParams'],
  ['fs/walk', 'WireFsWalkParams'],
  ['fs/remove', 'WireFsRemoveParams'],
  ['fs/copy', 'WireFsCopyParams'],
  ['fs/open', 'WireFsOpenParams'],
  ['fs/readBlock', 'FsReadBlockParams'],
  ['fs/writeBlock', 'FsWriteBlockParams'],
  ['fs/close', 'FsCloseParams'],
  ['fs/watchMissing', 'FsWatchMissingParams'],
];

/** A workdir-relative path as a URI (and as bytes, for names that are not UTF-8). */
function paths(ctx: ScenarioContext) {
  const w = ctx.workdir;
  return {
    p: (rel: string) => `${w}/${rel}`,
    u: (rel = '') => (rel === '' ? ctx.workdirUri : `${ctx.workdirUri}/${rel}`),
    raw: (...parts: Array<string | number[]>) => Buffer.concat([Buffer.from(`${w}/`), ...parts.map((x) => Buffer.from(x as never))]),
  };
}

/** The shared fixture: a file, a directory, symlinks of every kind, a FIFO. */
function fixture(ctx: ScenarioContext): void {
  const { p } = paths(ctx);
  writeFileSync(p('hello.txt'), 'hello world\n');
  mkdirSync(p('dir'));
  writeFileSync(p('dir/a.txt'), 'a');
  writeFileSync(p('dir/.hidden'), 'h');
  mkdirSync(p('dir/sub'));
  symlinkSync(p('hello.txt'), p('link-to-hello'));
  symlinkSync(p('dir'), p('link-to-dir'));
  symlinkSync(p('nope'), p('dangling'));
  symlinkSync('loop2', p('loop1'));
  symlinkSync('loop1', p('loop2'));
  execFileSync('mkfifo', [p('fifo')]);
}

const walkOptions = (o: Record<string, unknown> = {}) => ({ maxDepth: 10, maxDirectories: 100, maxEntries: 100, followDirectorySymlinks: false, ...o });

const params: Scenario = {
  name: 'fs/params',
  spec: '§1.5 §7',
  description: 'serde struct names (null, [] params) for every fs method before initialize; positional fields, defaults and type errors; URI errors',
  async run(ctx) {
    const c = await ctx.connect();
    for (const [method] of METHODS_AND_STRUCTS) {
      await c.request(method, null);
      await c.request(method, []);
      await c.request(method, {});
    }
    const u = `${ctx.workdirUri}/x`;
    const cases: Array<[string, unknown]> = [
      ['fs/readFile', [u]],
      ['fs/readFile', [u, 'str']],
      ['fs/readFile', [u, true, 'str']],
      ['fs/readFile', [u, null, null]],
      ['fs/readFile', { path: u, sandbox: {} }],
      ['fs/readFile', { path: '/abs/path' }],
      ['fs/readFile', { path: 'http://example.com/x' }],
      ['fs/readFile', { path: 'file:///a?b' }],
      ['fs/readFile', { path: 'file:///a#f' }],
      ['fs/writeFile', [u, 'not base64']],
      ['fs/writeFile', { path: u, dataBase64: null }],
      ['fs/createDirectory', [u]],
      ['fs/createDirectory', [u, true]],
      ['fs/createDirectory', { path: u, recursive: 'x' }],
      ['fs/remove', [u, true, true]],
      ['fs/remove', { path: u, force: 'x' }],
      ['fs/copy', [u, u]],
      ['fs/copy', { sourcePath: u, destinationPath: u, recursive: null }],
      ['fs/walk', { path: u, options: null }],
      ['fs/walk', { path: u, options: [1, 1, 1] }],
      ['fs/walk', { path: u, options: [1, 1, 1, false, null] }],
      ['fs/walk', { path: u, options: { maxDepth: 1 } }],
      ['fs/walk', { path: u, options: { maxDepth: -1, maxDirectories: 1, maxEntries: 1, followDirectorySymlinks: false } }],
      ['fs/walk', { path: u, options: { maxDepth: '1', maxDirectories: 1, maxEntries: 1, followDirectorySymlinks: false } }],
      ['fs/open', ['h', u]],
      ['fs/open', { handleId: 5, path: u }],
      ['fs/open', { handleId: 'h', path: u, mode: 'append' }],
      ['fs/open', { handleId: 'h', path: u, mode: null }],
      ['fs/open', { handleId: 'h', path: u, mode: 5 }],
      ['fs/open', { handleId: 'h', path: u, mode: { zz: null } }],
      ['fs/readBlock', ['h', 'str']],
      ['fs/readBlock', { handleId: 'h', offset: -1, len: 1 }],
      ['fs/readBlock', { handleId: 'h', offset: 1.5, len: 1 }],
      ['fs/readBlock', { handleId: 'h', offset: 0 }],
      ['fs/writeBlock', { handleId: 'h', offset: 0, chunk: 'not base64!' }],
      ['fs/writeBlock', { handleId: 'h', offset: 0, chunk: 'QQ' }],
      ['fs/writeBlock', { handleId: 'h', offset: 0, chunk: null }],
      ['fs/close', { handleId: 5 }],
      ['fs/watchMissing', { watchId: -1, missing: [] }],
      ['fs/watchMissing', { watchId: 1, missing: null }],
      ['fs/watchMissing', { watchId: 1, missing: ['http://x/'] }],
      ['fs/watchMissing', [1, [u], 'str']],
      ['fs/watchMissing', { watchId: '1', missing: [] }],
    ];
    for (const [method, p] of cases) await c.request(method, p);
    // Decodable params reach the lifecycle gate.
    await c.request('fs/readFile', { path: u, followSymlinks: null, sandbox: null });
    await c.request('fs/open', { handleId: 'h', path: u, mode: { replace: null } });
    await c.request('fs/watchMissing', { watchId: 1, missing: [u], present: null, sandbox: 'ignored' });
    await c.handshake();
    await c.request('fs/readFile', null);
    await c.request('fs/readFile', { path: 'relative/path' });
  },
};

const readWrite: Scenario = {
  name: 'fs/read-write',
  spec: '§7.1 §7.2 §7.3 §3',
  description: 'readFile/writeFile: binary data, symlinks followed or refused, non-regular files, dot-dot, host URIs, non-UTF-8 names, base64 errors',
  async run(ctx) {
    fixture(ctx);
    const { p, u, raw } = paths(ctx);
    writeFileSync(p('binary.bin'), Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256)));
    writeFileSync(p('empty'), '');
    writeFileSync(p('big.bin'), Buffer.alloc(3 * 1024 * 1024 + 5, 0x5a));
    writeFileSync(raw('bad-', [0xff, 0xfe], '.txt'), 'not utf-8 name');
    const c = await ctx.connect();
    await c.handshake();
    const read = (rel: string, extra: Record<string, unknown> = {}) => c.request('fs/readFile', { path: u(rel), ...extra });
    for (const rel of ['hello.txt', 'binary.bin', 'empty', 'big.bin', 'link-to-hello', 'dir/../hello.txt', 'bad-%FF%FE.txt']) await read(rel);
    for (const rel of ['missing', 'dangling', 'dir', 'fifo', 'loop1', 'hello.txt/x', 'link-to-dir/missing', `${'x'.repeat(300)}`]) await read(rel);
    for (const rel of ['hello.txt', 'dir/a.txt', 'link-to-hello', 'link-to-dir', 'link-to-dir/a.txt', 'dangling', 'dir', 'fifo', 'missing', 'missing/x', 'loop1/x', 'hello.txt/x']) {
      await read(rel, { followSymlinks: false });
    }
    await read('hello.txt', { followSymlinks: true, sandbox: null });
    for (const path of ['file:///dev/null', 'file://host/x', 'file:///C:/x', 'file://localhost' + p('hello.txt'), 'file:///']) await c.request('fs/readFile', { path });

    const write = (rel: string, dataBase64: string, extra: Record<string, unknown> = {}) => c.request('fs/writeFile', { path: u(rel), dataBase64, ...extra });
    await write('new.txt', Buffer.from('new content').toString('base64'));
    await read('new.txt');
    await write('new.txt', '');
    await read('new.txt');
    await write('bytes.bin', Buffer.from([0, 1, 2, 254, 255]).toString('base64'));
    await read('bytes.bin');
    await write('link-to-hello', Buffer.from('through the link').toString('base64'));
    await read('hello.txt');
    await write('dangling', Buffer.from('creates the target').toString('base64'));
    await read('nope');
    await write('bad-%FF%FE.txt', 'YmFk');
    await read('bad-%FF%FE.txt');
    for (const rel of ['nodir/x', 'dir', 'hello.txt/x']) await write(rel, 'eA==');
    for (const rel of ['link-to-hello', 'dangling', 'link-to-dir/b.txt', 'dir', 'nodir/x', 'plain.txt']) await write(rel, 'eA==', { followSymlinks: false });
    await read('plain.txt');
    for (const bad of ['not base64!', 'QQ', 'QR==', '====', 'é']) await write('x', bad);
    await c.request('fs/writeFile', { path: 'file://host/x', dataBase64: '!!' });
    await c.request('fs/writeFile', { path: 'file://host/x', dataBase64: 'eA==' });
  },
};

const directories: Scenario = {
  name: 'fs/directories',
  spec: '§7.4 §7.5 §7.6 §7.7',
  description: 'createDirectory (recursive, followSymlinks), getMetadata (symlinks, times, non-regular files), canonicalize, readDirectory (raw order, link targets, dangling links left out)',
  async run(ctx) {
    fixture(ctx);
    const { p, u, raw } = paths(ctx);
    writeFileSync(raw('dir/bad-', [0xff], '.txt'), '');
    const c = await ctx.connect();
    await c.handshake();
    const mkdir = (rel: string, extra: Record<string, unknown> = {}) => c.request('fs/createDirectory', { path: u(rel), ...extra });
    await mkdir('newdir');
    await mkdir('newdir');
    await mkdir('newdir', { recursive: false });
    await mkdir('a/b/c');
    await mkdir('x/y/z', { recursive: false });
    await mkdir('single', { recursive: false, followSymlinks: null });
    for (const rel of ['hello.txt', 'hello.txt/sub', 'link-to-dir', 'link-to-dir/sub1', 'dangling', 'link-to-hello', 'loop1', 'loop1/x']) {
      await mkdir(rel);
      await mkdir(rel, { recursive: false });
      await mkdir(rel, { followSymlinks: false });
      await mkdir(rel, { recursive: false, followSymlinks: false });
    }
    await mkdir('nf/a/b', { followSymlinks: false });
    await mkdir('nf/a/b', { followSymlinks: false });
    await mkdir('nf2/a', { recursive: false, followSymlinks: false });
    await c.request('fs/createDirectory', { path: 'file:///' });
    await c.request('fs/createDirectory', { path: 'file:///', recursive: false });
    await c.request('fs/createDirectory', { path: 'file:///proc/exec-desk-conformance/x' });
    await c.request('fs/createDirectory', { path: 'file://host/x' });

    const meta = (rel: string, extra: Record<string, unknown> = {}) => c.request('fs/getMetadata', { path: u(rel), ...extra });
    for (const rel of ['hello.txt', 'dir', 'link-to-hello', 'link-to-dir', 'dangling', 'loop1', 'fifo', 'missing', 'hello.txt/x', 'link-to-dir/a.txt']) {
      await meta(rel);
      await meta(rel, { followSymlinks: false });
    }
    for (const path of ['file:///dev/null', 'file:///', 'file://host/x']) await c.request('fs/getMetadata', { path });

    for (const rel of ['hello.txt', 'dir', 'dir/', 'link-to-hello', 'link-to-dir', 'link-to-dir/a.txt', 'dangling', 'loop1', 'missing', 'dir/../hello.txt', 'hello.txt/x', 'fifo']) {
      await c.request('fs/canonicalize', { path: u(rel) });
    }
    await c.request('fs/canonicalize', { path: 'file:///' });
    await c.request('fs/canonicalize', { path: 'file://localhost' + p('link-to-dir') });

    for (const rel of ['', 'dir', 'link-to-dir', 'hello.txt', 'missing', 'dangling', 'loop1', 'fifo', 'a']) await c.request('fs/readDirectory', { path: u(rel) });
    await c.request('fs/readDirectory', { path: 'file://host/x' });
    // The 50 000-entry limit (`fs/readDirectory returned 50001 entries; limit is 50000`) is covered by
    // fs-ops.test.ts: 50 001 files per run would dominate the suite's time.
  },
};

const walk: Scenario = {
  name: 'fs/walk',
  spec: '§7.8',
  description: 'walk: BFS order, depth, symlink following and cycles, hidden pruning, entry/directory limits and truncation, the 4 MiB output budget, lossy names, limit errors',
  async run(ctx) {
    const { p, u, raw } = paths(ctx);
    const mk = (rel: string) => mkdirSync(p(rel), { recursive: true });
    const wf = (rel: string) => writeFileSync(p(rel), rel);
    mk('t/b/c/d/e');
    mk('t/a/x');
    mk('t/.hid/inner');
    for (const f of ['t/z.txt', 't/a/f1', 't/a/x/f2', 't/b/c/d/e/deep', 't/.hid/inner/h', 't/.hfile', 't/B.txt', 't/_u']) wf(f);
    symlinkSync(p('t/a'), p('t/la'));
    symlinkSync(p('t/z.txt'), p('t/lz'));
    symlinkSync(p('t/b/c'), p('t/lc'));
    symlinkSync('/nonexistent-exec-desk-target', p('t/ldang'));
    symlinkSync(p('t'), p('t/a/lroot'));
    execFileSync('mkfifo', [p('t/a/fifo')]);
    mk('odd');
    mkdirSync(raw('odd/d-', [0xff]));
    wf('odd/zz');
    writeFileSync(raw('odd/', [0xc3]), '');
    writeFileSync(p('odd/\u00e9'), '');
    writeFileSync(p('odd/\ufffd'), '');
    // The 4 MiB output budget counts URI bytes: a deep directory with long names reaches it with
    // ~1 300 entries (each entry costs its ~3 300-byte URI + 64).
    const deep = `budget/${Array.from({ length: 13 }, (_, i) => `${i}${'y'.repeat(249)}`).join('/')}`;
    mk(deep);
    for (let i = 0; i < 1_500; i++) writeFileSync(p(`${deep}/f${i}`), '');

    const c = await ctx.connect();
    await c.handshake();
    const w = (rel: string, o: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
      c.request('fs/walk', { path: u(rel), options: walkOptions(o), ...extra });
    await w('t');
    for (const o of [{ maxDepth: 0 }, { maxDepth: 1 }, { followDirectorySymlinks: true }, { followDirectorySymlinks: true, maxDepth: 1 }, { pruneHiddenDirectories: true }, { pruneHiddenDirectories: true, followDirectorySymlinks: true }]) {
      await w('t', o);
    }
    for (const n of [1, 2, 3, 4, 9, 10]) await w('t', { maxDirectories: n });
    for (const n of [1, 2, 5, 6, 7, 16, 17]) await w('t', { maxEntries: n });
    for (const n of [8, 9]) await w('t', { maxEntries: n, followDirectorySymlinks: true });
    await w('t/la', { followDirectorySymlinks: true });
    for (const rel of ['t/la', 't/lz', 't/z.txt', 't/ldang', 'missing', 't/z.txt/x']) await w(rel);
    await w('odd');
    await w('odd', { maxEntries: 2 });
    for (const maxEntries of [50_000, 1_000]) {
      // ~4 MiB of URIs: hidden from the transcript, summarized as a fact.
      const reply = (await c.hiddenRequest('fs/walk', { path: u(deep), options: walkOptions({ maxDepth: 0, maxEntries }) })) as any;
      const entries: Array<{ path: string }> = reply.result?.entries ?? [];
      ctx.fact(`walk of 1500 long paths, maxEntries ${maxEntries}`, {
        error: reply.error ?? null,
        entries: entries.length,
        truncated: reply.result?.truncated,
        last: entries.at(-1)?.path.slice(-8),
        uriBytes: entries.reduce((sum, e) => sum + e.path.length, 0) - entries.length * u(deep).length,
      });
    }
    await w('t', { maxDepth: 64, maxDirectories: 10_000, maxEntries: 50_000 }, { sandbox: null });
    for (const o of [{ maxDepth: 65 }, { maxDirectories: 10_001 }, { maxEntries: 50_001 }, { maxEntries: 0 }, { maxDirectories: 0 }, { maxDepth: 65, maxEntries: 0 }]) await w('t', o);
    await w('missing', { maxEntries: 0 });
    await c.request('fs/walk', { path: 'file://host/x', options: walkOptions({ maxDirectories: 0 }) });
    await c.request('fs/walk', { path: 'file://host/x', options: walkOptions() });
    await c.request('fs/walk', { path: 'file:///', options: walkOptions({ maxDepth: 0, maxEntries: 1 }) });
  },
  timeoutMs: 20_000,
};

const remove: Scenario = {
  name: 'fs/remove',
  spec: '§7.9',
  description: 'remove: trees, empty directories, symlinks (never their targets), force, recursive: false, followSymlinks: false, immutable files',
  async run(ctx) {
    fixture(ctx);
    const { p, u } = paths(ctx);
    mkdirSync(p('tree/a/b'), { recursive: true });
    writeFileSync(p('tree/a/b/f'), 'x');
    mkdirSync(p('keep'));
    writeFileSync(p('keep/k'), 'keep');
    symlinkSync(p('keep'), p('tree/a/link-out'));
    mkdirSync(p('empty'));
    mkdirSync(p('empty2'));
    writeFileSync(p('f1'), '');
    writeFileSync(p('f2'), '');
    symlinkSync(p('dir'), p('link2'));
    symlinkSync(p('dir'), p('link3'));
    const c = await ctx.connect();
    await c.handshake();
    const rm = (rel: string, extra: Record<string, unknown> = {}) => c.request('fs/remove', { path: u(rel), ...extra });
    const exists = (rel: string) => c.request('fs/getMetadata', { path: u(rel), followSymlinks: false });
    await rm('missing');
    await rm('missing', { force: false });
    await rm('missing', { force: true, recursive: null, followSymlinks: null });
    await rm('missing/x', { force: false });
    await rm('hello.txt/x');
    await rm('tree', { recursive: false });
    await rm('tree', { recursive: false, force: false });
    await rm('tree');
    await exists('tree');
    await exists('keep/k');
    await rm('empty', { recursive: false });
    await rm('f1', { recursive: false });
    await rm('link-to-dir');
    await exists('dir/a.txt');
    await rm('link-to-hello', { recursive: false });
    await exists('hello.txt');
    await rm('fifo');
    await rm('link3/.');
    await exists('dir');
    // followSymlinks: false
    await rm('missing', { followSymlinks: false });
    await rm('dir', { followSymlinks: false });
    for (const rel of ['link2', 'dangling', 'link2/a.txt', 'missing', 'missing/x', 'hello.txt/x', 'dir', 'empty2', 'f2']) {
      await rm(rel, { recursive: false, followSymlinks: false });
    }
    await rm('missing', { recursive: false, followSymlinks: false, force: false });
    await exists('empty2');
    await exists('f2');
    await c.request('fs/remove', { path: 'file://host/x' });
    await c.request('fs/remove', { path: 'file://host/x', followSymlinks: false });
    await c.request('fs/remove', { path: 'file:///proc/self/status' });
    // Root cannot remove an immutable file either (PermissionDenied → -32600), where chattr works.
    writeFileSync(p('locked'), 'x');
    let immutable = false;
    try {
      execFileSync('chattr', ['+i', p('locked')], { stdio: 'ignore' });
      immutable = true;
    } catch {
      /* not supported here: both implementations see the same */
    }
    ctx.fact('immutable file available', immutable);
    if (immutable) {
      await rm('locked');
      await c.request('fs/writeFile', { path: u('locked'), dataBase64: 'eQ==' });
      execFileSync('chattr', ['-i', p('locked')]);
    }
  },
};

/** exec-desk keeps the file when it is copied onto itself: the readFile after the copy returns it. */
function keepsFileCopiedOntoItself(messages: WireMessage[]): string | null {
  const copy = messages.find((m) => m.id === 2 && m.method === undefined);
  const read = messages.find((m) => m.id === 3 && m.method === undefined);
  if (!copy || copy.error) return `fs/copy onto itself failed: ${JSON.stringify(copy?.error)}`;
  if (read?.result?.dataBase64 !== Buffer.from('hello world\n').toString('base64')) return `the file changed: ${JSON.stringify(read)}`;
  return null;
}

const copy: Scenario = {
  name: 'fs/copy',
  spec: '§7.10',
  description: 'copy: files (mode kept), trees merged, symlinks copied as links, recursive rules, copying into itself, special files, error paths',
  async run(ctx) {
    fixture(ctx);
    const { p, u } = paths(ctx);
    mkdirSync(p('src/sub/deeper'), { recursive: true });
    writeFileSync(p('src/sub/x'), 'new');
    writeFileSync(p('src/top'), 'top');
    writeFileSync(p('src/.hidden'), 'hidden');
    symlinkSync('sub/x', p('src/rel-link'));
    symlinkSync(p('hello.txt'), p('src/abs-link'));
    symlinkSync('/nonexistent-exec-desk-target', p('src/dang'));
    execFileSync('mkfifo', [p('src/fifo')]);
    mkdirSync(p('merge/sub'), { recursive: true });
    writeFileSync(p('merge/sub/x'), 'old, longer content');
    writeFileSync(p('merge/keep'), 'keep');
    mkdirSync(p('clash/sub'), { recursive: true });
    writeFileSync(p('clash/sub/deeper'), 'a file where a directory goes');
    execFileSync('chmod', ['4751', p('hello.txt')]);
    const c = await ctx.connect();
    await c.handshake();
    const cp = (from: string, to: string, recursive: boolean, extra: Record<string, unknown> = {}) =>
      c.request('fs/copy', { sourcePath: u(from), destinationPath: u(to), recursive, ...extra });
    const read = (rel: string) => c.request('fs/readFile', { path: u(rel) });
    const meta = (rel: string) => c.request('fs/getMetadata', { path: u(rel), followSymlinks: false });
    await cp('hello.txt', 'copy.txt', false);
    await read('copy.txt');
    writeFileSync(p('over.txt'), 'a much longer old content');
    await cp('hello.txt', 'over.txt', true);
    await read('over.txt');
    ctx.fact('copy keeps the setuid mode', (statSync(p('copy.txt')).mode & 0o7777).toString(8));
    await cp('src', 'srccopy', false);
    await cp('src', 'srccopy', true);
    await c.request('fs/walk', { path: u('srccopy'), options: walkOptions() });
    await c.request('fs/readDirectory', { path: u('srccopy') });
    for (const rel of ['srccopy/rel-link', 'srccopy/abs-link', 'srccopy/dang']) await c.request('fs/canonicalize', { path: u(rel) });
    await cp('src', 'srccopy', true); // the links exist now
    await cp('src', 'merge', true);
    await read('merge/sub/x');
    await read('merge/keep');
    await cp('src', 'clash', true);
    await cp('src', 'fresh/deep/copy', true);
    await meta('fresh/deep/copy/sub');
    await cp('link-to-dir', 'linkcopy', false);
    await cp('link-to-dir', 'linkcopy2', true);
    await cp('dangling', 'dangcopy', false);
    await meta('linkcopy');
    await cp('dangling', 'copy.txt', false);
    await cp('src', 'src/inside', false);
    for (const to of ['src/inside', 'src', 'src/sub/new/deeper', 'link-to-dir/../src/x']) await cp('src', to, true);
    symlinkSync(p('src'), p('src-link'));
    await cp('src', 'src-link/x', true);
    await cp('src/sub', 'src', true);
    await cp('fifo', 'fifocopy', false);
    await cp('fifo', 'fifocopy', true);
    await c.request('fs/copy', { sourcePath: 'file:///dev/null', destinationPath: u('devnull'), recursive: false });
    for (const [from, to] of [['missing', 'x'], ['hello.txt', 'nodir/x'], ['hello.txt', 'dir'], ['hello.txt', 'link-to-dir'], ['hello.txt', 'hello.txt/x'], ['src', 'hello.txt']]) {
      await cp(from!, to!, true);
    }
    await c.request('fs/copy', { sourcePath: 'file://host/x', destinationPath: 'file://host2/x', recursive: true });
    await c.request('fs/copy', { sourcePath: u('missing'), destinationPath: 'file://host/x', recursive: true });

    const d = await ctx.connect({
      divergence: {
        name: 'fs-copy-onto-itself',
        reason: 'the reference truncates a file copied onto itself to 0 bytes; exec-desk leaves the file unchanged',
        checkExecDesk: keepsFileCopiedOntoItself,
      },
    });
    await d.handshake();
    await d.request('fs/copy', { sourcePath: u('hello.txt'), destinationPath: u('hello.txt'), recursive: false });
    await d.request('fs/readFile', { path: u('hello.txt') });
  },
};

async function readAll(c: TracedClient, handleId: string, size: number): Promise<void> {
  for (let offset = 0; offset < size + 1; offset += 1024 * 1024) await c.request('fs/readBlock', { handleId, offset, len: 1024 * 1024 });
}

const handles: Scenario = {
  name: 'fs/handles',
  spec: '§7.11 §4',
  description: 'open/readBlock/writeBlock/close: ids, modes, eof rules, positional I/O, huge offsets, errors that close a handle, replaced/unlinked paths, 128 handles per connection, handles scoped to the connection',
  async run(ctx) {
    fixture(ctx);
    const { p, u } = paths(ctx);
    const size = 5 * 1024 * 1024 + 3;
    const fd = openSync(p('sparse.bin'), 'w');
    ftruncateSync(fd, size);
    for (let i = 0; i < 5; i++) writeSync(fd, Buffer.from(`marker-${i}`), 0, 8, i * 1_100_000 + 1_048_570);
    closeSync(fd);
    writeFileSync(p('rep'), 'original');
    writeFileSync(p('unl'), 'to be unlinked');
    writeFileSync(p('app'), 'abc');
    const c = await ctx.connect();
    await c.handshake();
    const open = (handleId: string, rel: string, extra: Record<string, unknown> = {}) => c.request('fs/open', { handleId, path: u(rel), ...extra });
    const rb = (handleId: string, offset: number | string, len: number | string) =>
      typeof offset === 'string' || typeof len === 'string'
        ? raw(c, 'fs/readBlock', `{"handleId":${JSON.stringify(handleId)},"offset":${offset},"len":${len}}`)
        : c.request('fs/readBlock', { handleId, offset, len });
    const wb = (handleId: string, offset: number | string, chunk: string) =>
      typeof offset === 'string' ? raw(c, 'fs/writeBlock', `{"handleId":${JSON.stringify(handleId)},"offset":${offset},"chunk":${JSON.stringify(chunk)}}`) : c.request('fs/writeBlock', { handleId, offset, chunk });

    await open('h1', 'hello.txt');
    await open('h1', 'hello.txt');
    await open('h1', 'missing');
    await c.request('fs/open', { handleId: 'h1', path: 'file://host/x' });
    await c.request('fs/open', { handleId: 'h2', path: 'file://host/x' });
    for (const rel of ['missing', 'dir', 'fifo', 'link-to-dir']) await open('h2', rel);
    await c.request('fs/open', { handleId: 'h2', path: 'file:///dev/null' });
    await open('x'.repeat(33), 'missing');
    await open('\u00e9'.repeat(17), 'hello.txt');
    await open('\u00e9'.repeat(16), 'hello.txt');
    await open('', 'hello.txt');
    await open('lh', 'link-to-hello', { mode: 'read', sandbox: null });
    await rb('h1', 0, 5);
    await rb('h1', 6, 100);
    await rb('h1', 6, 6);
    await rb('h1', 12, 1);
    await rb('h1', 100, 1);
    await rb('h1', 0, 0);
    await rb('h1', 0, 1048577);
    await rb('h1', 0, '18446744073709551615');
    await rb('nope', 0, 0);
    await rb('nope', 0, 5);
    await rb('', 0, 5);
    await rb('lh', 0, 1048576);
    await rb('h1', '9007199254740993', 1);
    await rb('h1', '9223372036854775806', 1);
    await rb('h1', '9223372036854775807', 1); // EINVAL: and the handle is closed
    await rb('h1', 0, 1);
    await open('h1', 'hello.txt');
    await rb('h1', '18446744073709551615', 1);
    await rb('h1', 0, 1);
    await wb('lh', 0, 'aGVsbG8='); // write on a read handle: EBADF, handle stays
    await rb('lh', 0, 5);
    await wb('nope', 0, 'aGVsbG8=');
    await wb('nope', 0, '');
    await wb('nope', '18446744073709551615', 'eA==');
    await wb('nope', '18446744073709551615', '');

    await open('w1', 'written.bin', { mode: 'replace' });
    await wb('w1', 0, 'aGVsbG8=');
    await wb('w1', 10, 'd29ybGQ=');
    await c.request('fs/readFile', { path: u('written.bin') });
    await wb('w1', '9223372036854775802', 'aGVsbG8=');
    await wb('w1', '9223372036854775803', 'aGVsbG8=');
    await wb('w1', 0, Buffer.alloc(1048577).toString('base64'));
    await wb('w1', 0, Buffer.alloc(1048576, 0x41).toString('base64'));
    await rb('w1', 0, 5); // read on a write handle: EBADF, and the handle is closed
    await rb('w1', 0, 5);
    await wb('w1', 0, 'eA==');
    await open('w2', 'hello.txt', { mode: 'replace' });
    await c.request('fs/getMetadata', { path: u('hello.txt') });
    for (const rel of ['nodir/x', 'dir', 'fifo']) await open('w3', rel, { mode: 'replace' });
    await c.request('fs/open', { handleId: 'w3', path: 'file:///dev/null', mode: 'replace' });
    await open('w4', 'dangling', { mode: { replace: null } });
    await c.request('fs/readFile', { path: u('nope') });
    await c.request('fs/close', { handleId: 'w4' });
    await c.request('fs/close', { handleId: 'w4' });
    await c.request('fs/close', { handleId: 'never' });
    await c.request('fs/close', { handleId: 'x'.repeat(40) });

    // Positional reads keep reading what was opened.
    await open('rep', 'rep');
    writeFileSync(p('rep.new'), 'replacement!');
    renameSync(p('rep.new'), p('rep'));
    await rb('rep', 0, 100);
    await open('unl', 'unl');
    unlinkSync(p('unl'));
    await rb('unl', 0, 100);
    await open('app', 'app');
    appendFileSync(p('app'), 'def');
    await rb('app', 0, 100);
    // A multi-MiB sparse file, block by block.
    await open('big', 'sparse.bin');
    await readAll(c, 'big', size);

    // Handles belong to the connection.
    const other = await ctx.connect();
    await other.handshake();
    await other.request('fs/readBlock', { handleId: 'rep', offset: 0, len: 5 });
    await other.request('fs/close', { handleId: 'rep' });
    await rb('rep', 0, 5);
    // 128 per connection (the ones above still open count).
    const open0 = ['rep', 'unl', 'app', 'big', 'lh', '', '\u00e9'.repeat(16), 'h1', 'w1', 'w2'];
    for (const id of open0) await c.request('fs/close', { handleId: id });
    for (let i = 0; i < 128; i++) await c.hiddenRequest('fs/open', { handleId: `n${i}`, path: u('hello.txt') });
    await open('n128', 'hello.txt');
    await open('n128', 'missing');
    await open('n0', 'hello.txt');
    await c.request('fs/close', { handleId: 'n5' });
    await open('n128', 'hello.txt');
    await open('n129', 'hello.txt');
    c.close();
    await c.waitDisconnect();
    await other.request('fs/readBlock', { handleId: 'n1', offset: 0, len: 5 });
  },
  timeoutMs: 20_000,
};

/** A request sent as raw text (integers beyond 2^53), recorded in the transcript like any other. */
const rawCounters = new WeakMap<TracedClient, number>();
function raw(c: TracedClient, method: string, paramsText: string): Promise<unknown> {
  const n = (rawCounters.get(c) ?? 0) + 1;
  rawCounters.set(c, n);
  const id = `raw-${n}`;
  const reply = c.rpc.waitFor((m) => m.id === id && m.method === undefined, 5000);
  reply.catch(() => {});
  c.sendRaw(`{"id":${JSON.stringify(id)},"method":${JSON.stringify(method)},"params":${paramsText}}`);
  return reply;
}

const watchMissing: Scenario = {
  name: 'fs/watch-missing',
  spec: '§7.12 §4',
  description: 'watchMissing: watching true/false rules, ids that must increase, one watch per connection, fires once on creation on or at the path, present paths, per-connection scope',
  async run(ctx) {
    const { p, u } = paths(ctx);
    writeFileSync(p('e1'), 'x');
    writeFileSync(p('q1'), 'x');
    mkdirSync(p('pd'));
    const c = await ctx.connect();
    await c.handshake();
    let seen = 0;
    const fired = () => c.rpc.frames.filter((f) => f.message.method === 'fs/missingChanged').length;
    /** Waits for the next fs/missingChanged (so the transcript order is fixed). */
    const expectFire = async () => {
      await c.until(() => fired() > seen, 3000);
      seen = fired();
    };
    /** Leaves time for a notification that must not come. */
    const expectQuiet = async () => {
      await ctx.sleep(400);
      ctx.fact('no fs/missingChanged', fired() === seen);
    };
    const watch = (watchId: number, missing: string[], present?: string) =>
      c.request('fs/watchMissing', present === undefined ? { watchId, missing } : { watchId, missing, present });

    await watch(0, [u('m0')]);
    await watch(1, []);
    await watch(2, ['file://host/x']);
    await watch(3, [u('p1')]);
    writeFileSync(p('p1'), 'x');
    await expectFire();
    unlinkSync(p('p1'));
    writeFileSync(p('p1'), 'y');
    await expectQuiet();
    await watch(3, [u('p2')]);
    await watch(2, [u('p2')]);
    await watch(10, [u('p1')]);
    await watch(11, [u('p2'), u('p1')]);
    await watch(12, [u('d1/d2/f')]);
    writeFileSync(p('sibling'), '');
    await expectQuiet();
    mkdirSync(p('d1'));
    await expectFire();
    await watch(13, [u('d1/d2/f')]);
    writeFileSync(p('d1/other'), '');
    await expectQuiet();
    mkdirSync(p('d1/d2'));
    await expectFire();
    // One watch per connection: a new one replaces the old; a lower id changes nothing.
    await watch(14, [u('r1')]);
    await watch(15, [u('r2')]);
    writeFileSync(p('r1'), '');
    await expectQuiet();
    await watch(9, [u('r3')]);
    writeFileSync(p('r2'), '');
    await expectFire();
    await watch(20, [u('s1')]);
    await watch(21, [u('e1')]);
    writeFileSync(p('s1'), '');
    await expectQuiet();
    await watch(16, [u('s2')]);
    await watch(22, [u('dang')]);
    symlinkSync('/nonexistent-exec-desk-target', p('dang'));
    await expectFire();
    await watch(23, [u('dang')]);
    await watch(24, [u('e1/x')]);
    await watch(25, [u(`${'x'.repeat(300)}`)]);
    await watch(26, [u('moved')]);
    writeFileSync(p('tmp'), '');
    renameSync(p('tmp'), p('moved'));
    await expectFire();
    await watch(27, [u('d1/d2/x/y')]);
    rmSync(p('d1'), { recursive: true });
    await expectFire();
    await watch(28, [u('a/../m8'), u('m8')]);
    writeFileSync(p('m8'), '');
    await expectFire();
    // present: must exist; changing or removing it fires, reading it or adding to its directory does not.
    await watch(30, [u('m9')], u('nonexistent'));
    await watch(31, [u('m9')], u('m9'));
    await watch(32, [u('m9')], 'file://host/x');
    await watch(33, [], u('q1'));
    await watch(34, [u('m9')], u('q1'));
    ctx.fact('present read', execFileSync('cat', [p('q1')]).toString());
    await expectQuiet();
    writeFileSync(p('q1'), 'modified');
    await expectFire();
    await watch(35, [u('m9')], u('q1'));
    rmSync(p('q1'));
    await expectFire();
    await watch(36, [u('m9')], u('pd'));
    writeFileSync(p('pd/child'), '');
    await expectQuiet();
    rmSync(p('pd'), { recursive: true });
    await expectFire();
    // Watches belong to the connection; ids are per connection.
    const other = await ctx.connect();
    await other.handshake();
    await other.request('fs/watchMissing', { watchId: 1, missing: [u('m10')] });
    await watch(40, [u('m11')]);
    other.close();
    await other.waitDisconnect();
    writeFileSync(p('m10'), '');
    await expectQuiet();
    writeFileSync(p('m11'), '');
    await expectFire();
  },
  timeoutMs: 20_000,
};

/** exec-desk's side: every request with the read-only sandbox is refused with a sandbox error; the rest works. */
function refusesRestrictedSandbox(messages: WireMessage[]): string | null {
  const replies = messages.filter((m) => m.method === undefined && typeof m.id === 'number' && m.id >= 2);
  if (replies.length === 0) return 'no replies';
  for (const reply of replies) {
    if (reply.id === 99) {
      if (reply.error) return `the request without a sandbox failed: ${reply.error.message}`;
      continue;
    }
    if (!reply.error) return `request ${reply.id} with a restricting sandbox was accepted: ${JSON.stringify(reply.result)}`;
    if (reply.error.code !== -32600 || !/sandbox/.test(reply.error.message)) return `request ${reply.id}: unexpected error ${JSON.stringify(reply.error)}`;
  }
  return null;
}

const sandbox: Scenario = {
  name: 'fs/sandbox',
  spec: '§9 §7.1',
  description: 'fs requests with sandboxes that restrict nothing a file operation does run as usual; a read-only policy is an expected divergence (the reference confines, exec-desk refuses)',
  async run(ctx) {
    const { p, u } = paths(ctx);
    mkdirSync(p('ws'));
    writeFileSync(p('ws/in.txt'), 'inside');
    writeFileSync(p('out.txt'), 'outside');
    const open = [
      { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'external', network: 'enabled' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'managed', file_system: { type: 'unrestricted' }, network: 'enabled' }, windowsSandboxLevel: 'disabled' },
      { permissions: { type: 'managed', file_system: { type: 'unrestricted' }, network: 'restricted' }, windowsSandboxLevel: 'disabled', cwd: u('ws') },
    ];
    const c = await ctx.connect();
    await c.handshake();
    let n = 0;
    for (const sb of open) {
      n++;
      await c.request('fs/readFile', { path: u('out.txt'), sandbox: sb });
      await c.request('fs/writeFile', { path: u(`ws/new${n}.txt`), dataBase64: 'eA==', sandbox: sb });
      await c.request('fs/getMetadata', { path: u('ws/in.txt'), sandbox: sb });
      await c.request('fs/open', { handleId: `h${n}`, path: u('ws/in.txt'), sandbox: sb });
      await c.request('fs/readBlock', { handleId: `h${n}`, offset: 0, len: 10 });
      await c.request('fs/readDirectory', { path: u('ws'), sandbox: sb });
      await c.request('fs/walk', { path: u('ws'), options: walkOptions(), sandbox: sb });
      await c.request('fs/canonicalize', { path: u('ws/in.txt'), sandbox: sb });
      await c.request('fs/createDirectory', { path: u(`ws/d${n}`), sandbox: sb });
      await c.request('fs/copy', { sourcePath: u('ws/in.txt'), destinationPath: u(`ws/copy${n}`), recursive: false, sandbox: sb });
      await c.request('fs/remove', { path: u(`ws/copy${n}`), sandbox: sb });
    }
    for (const bad of [{}, { permissions: { type: 'bogus' }, windowsSandboxLevel: 'disabled' }, { permissions: { type: 'disabled' } }, 'disabled']) {
      await c.request('fs/readFile', { path: u('out.txt'), sandbox: bad });
    }

    const readOnly = {
      permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: { type: 'path', path: u('ws') }, access: 'read' }] }, network: 'restricted' },
      windowsSandboxLevel: 'disabled',
      cwd: u('ws'),
    };
    const d = await ctx.connect({
      divergence: {
        name: 'fs-sandbox-restricted',
        reason: 'the reference runs file operations under a restricting policy in its Linux sandbox helper; exec-desk cannot confine them and refuses with -32600',
        checkExecDesk: refusesRestrictedSandbox,
      },
    });
    await d.handshake();
    await d.request('fs/readFile', { path: u('ws/in.txt'), sandbox: readOnly }, 2);
    await d.request('fs/readFile', { path: u('out.txt'), sandbox: readOnly }, 3);
    await d.request('fs/writeFile', { path: u('ws/ro.txt'), dataBase64: 'eA==', sandbox: readOnly }, 4);
    await d.request('fs/getMetadata', { path: u('ws/in.txt'), sandbox: readOnly }, 5);
    await d.request('fs/open', { handleId: 'ro', path: u('ws/in.txt'), sandbox: readOnly }, 6);
    await d.request('fs/readDirectory', { path: u('ws'), sandbox: readOnly }, 7);
    await d.request('fs/readFile', { path: u('out.txt') }, 99);
  },
};

export const fsScenarios: Scenario[] = [params, readWrite, directories, walk, remove, copy, handles, watchMissing, sandbox];
