import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  opendirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { fileURLToPath } from 'node:url';
import { nativePathFromBytes } from '../protocol/path-uri.ts';
import { toRpcError } from './fs-errors.ts';
import {
  canonicalize,
  copyPath,
  createDirectory,
  getMetadata,
  readDirectory,
  readWholeFile,
  removePath,
  writeFileData,
} from './fs-ops.ts';
import { bytesPath, canChattr, tempDir } from './test-support.ts';

/** The wire error a rejected operation becomes. */
async function wireError(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = toRpcError(err);
    return { code: e.code, message: e.message };
  }
  assert.fail('expected the operation to fail');
}

const ENOENT = { code: -32004, message: 'No such file or directory (os error 2)' };
const ENOTDIR = { code: -32603, message: 'Not a directory (os error 20)' };
const ELOOP = { code: -32603, message: 'Symbolic link loop (os error 40)' };
const EEXIST = { code: -32603, message: 'File exists (os error 17)' };
const EISDIR = { code: -32603, message: 'Is a directory (os error 21)' };

function fixture() {
  const t = tempDir();
  const d = t.dir;
  writeFileSync(`${d}/hello.txt`, 'hello world\n');
  mkdirSync(`${d}/dir`);
  writeFileSync(`${d}/dir/a.txt`, 'a');
  symlinkSync(`${d}/hello.txt`, `${d}/link-to-hello`);
  symlinkSync(`${d}/dir`, `${d}/link-to-dir`);
  symlinkSync(`${d}/nope`, `${d}/dangling`);
  symlinkSync('loop2', `${d}/loop1`);
  symlinkSync('loop1', `${d}/loop2`);
  execFileSync('mkfifo', [`${d}/fifo`]);
  return t;
}

test('readWholeFile: binary contents, symlinks, errors as the reference renders them', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    const binary = Buffer.from(Array.from({ length: 256 * 3 }, (_, i) => i % 256));
    writeFileSync(`${d}/bin`, binary);
    assert.deepEqual(await readWholeFile(`${d}/bin`, true), binary);
    assert.equal((await readWholeFile(`${d}/link-to-hello`, true)).toString(), 'hello world\n');
    writeFileSync(`${d}/empty`, '');
    assert.equal((await readWholeFile(`${d}/empty`, true)).length, 0);
    // /proc files report size 0 but have content.
    assert.match((await readWholeFile('/proc/self/status', true)).toString(), /^Name:/);

    assert.deepEqual(await wireError(readWholeFile(`${d}/missing`, true)), ENOENT);
    assert.deepEqual(await wireError(readWholeFile(`${d}/dangling`, true)), ENOENT);
    assert.deepEqual(await wireError(readWholeFile(`${d}/dir`, true)), { code: -32600, message: `path \`${d}/dir\` is not a file` });
    // A FIFO is refused at once instead of blocking.
    assert.deepEqual(await wireError(readWholeFile(`${d}/fifo`, true)), { code: -32600, message: `path \`${d}/fifo\` is not a file` });
    assert.deepEqual(await wireError(readWholeFile('/dev/null', true)), { code: -32600, message: 'path `/dev/null` is not a file' });
    assert.deepEqual(await wireError(readWholeFile(`${d}/loop1`, true)), ELOOP);
    assert.deepEqual(await wireError(readWholeFile(`${d}/hello.txt/x`, true)), ENOTDIR);
    assert.deepEqual(await wireError(readWholeFile(`${d}/${'x'.repeat(300)}`, true)), {
      code: -32603,
      message: 'Filename too long (os error 36)',
    });
  } finally {
    t.cleanup();
  }
});

test('readWholeFile without following symlinks', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    assert.equal((await readWholeFile(`${d}/dir/a.txt`, false)).toString(), 'a');
    assert.deepEqual(await wireError(readWholeFile(`${d}/link-to-hello`, false)), ELOOP);
    assert.deepEqual(await wireError(readWholeFile(`${d}/dangling`, false)), ELOOP);
    assert.deepEqual(await wireError(readWholeFile(`${d}/link-to-dir/a.txt`, false)), ENOTDIR);
    assert.deepEqual(await wireError(readWholeFile(`${d}/loop1/x`, false)), ENOTDIR);
    assert.deepEqual(await wireError(readWholeFile(`${d}/missing/x`, false)), ENOENT);
    const notRegular = { code: -32600, message: 'path is not a regular file' };
    assert.deepEqual(await wireError(readWholeFile(`${d}/dir`, false)), notRegular);
    assert.deepEqual(await wireError(readWholeFile(`${d}/fifo`, false)), notRegular);
    assert.deepEqual(await wireError(readWholeFile('/dev/null', false)), notRegular);
  } finally {
    t.cleanup();
  }
});

test('non-UTF-8 file names are addressed by their bytes', async () => {
  const t = tempDir();
  try {
    const raw = bytesPath(t.dir, '/bad-', [0xff, 0xfe], '.txt');
    writeFileSync(raw, 'bad');
    const path = nativePathFromBytes(raw);
    assert.equal((await readWholeFile(path, true)).toString(), 'bad');
    await writeFileData(path, Buffer.from('new'), true);
    assert.equal(readFileSync(raw, 'utf8'), 'new');
    const entries = await readDirectory(t.dir);
    assert.deepEqual(entries, [{ fileName: 'bad-\ufffd\ufffd.txt', isDirectory: false, isFile: true }]);
    assert.equal((await getMetadata(path, true)).size, 3);
    assert.equal(await canonicalize(path), path);
    await copyPath(path, `${path}.copy`, false);
    assert.equal(readFileSync(bytesPath(t.dir, '/bad-', [0xff, 0xfe], '.txt.copy'), 'utf8'), 'new');
    await removePath(path, true, true, true);
    assert.equal(existsSync(raw), false);
  } finally {
    t.cleanup();
  }
});

test('writeFileData: create, truncate, through symlinks, and its errors', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    const data = Buffer.from([0, 1, 2, 255, 254]);
    await writeFileData(`${d}/new.bin`, data, true);
    assert.deepEqual(readFileSync(`${d}/new.bin`), data);
    assert.equal(statSync(`${d}/new.bin`).mode & 0o777, 0o666 & ~process.umask());
    writeFileSync(`${d}/long`, 'a much longer old content');
    await writeFileData(`${d}/long`, Buffer.from('short'), true);
    assert.equal(readFileSync(`${d}/long`, 'utf8'), 'short');
    await writeFileData(`${d}/empty`, Buffer.alloc(0), true);
    assert.equal(statSync(`${d}/empty`).size, 0);
    await writeFileData(`${d}/link-to-hello`, Buffer.from('via link'), true);
    assert.equal(readFileSync(`${d}/hello.txt`, 'utf8'), 'via link');
    await writeFileData(`${d}/dangling`, Buffer.from('target'), true);
    assert.equal(readFileSync(`${d}/nope`, 'utf8'), 'target');

    assert.deepEqual(await wireError(writeFileData(`${d}/nodir/x`, data, true)), ENOENT);
    assert.deepEqual(await wireError(writeFileData(`${d}/dir`, data, true)), EISDIR);
    assert.deepEqual(await wireError(writeFileData(`${d}/hello.txt/x`, data, true)), ENOTDIR);
    assert.deepEqual(await wireError(writeFileData(`${d}/link-to-hello`, data, false)), ELOOP);
    assert.deepEqual(await wireError(writeFileData(`${d}/link-to-dir/b`, data, false)), ENOTDIR);
    assert.deepEqual(await wireError(writeFileData(`${d}/dir`, data, false)), EISDIR);
    await writeFileData(`${d}/plain`, data, false);
    assert.deepEqual(readFileSync(`${d}/plain`), data);
    // A FIFO without a reader fails at once (the reference blocks the connection forever).
    assert.deepEqual(await wireError(writeFileData(`${d}/fifo`, data, true)), {
      code: -32603,
      message: 'No such device or address (os error 6)',
    });
  } finally {
    t.cleanup();
  }
});

test('createDirectory: recursive and not, following symlinks and not', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    await createDirectory(`${d}/a/b/c`, true, true);
    assert.ok(statSync(`${d}/a/b/c`).isDirectory());
    await createDirectory(`${d}/a/b/c`, true, true); // exists: fine
    await createDirectory('/', true, true);
    assert.deepEqual(await wireError(createDirectory(`${d}/a/b/c`, false, true)), EEXIST);
    assert.deepEqual(await wireError(createDirectory(`${d}/x/y`, false, true)), ENOENT);
    assert.deepEqual(await wireError(createDirectory(`${d}/hello.txt`, true, true)), EEXIST);
    assert.deepEqual(await wireError(createDirectory(`${d}/hello.txt/sub`, true, true)), ENOTDIR);
    assert.deepEqual(await wireError(createDirectory(`${d}/dangling`, true, true)), EEXIST);
    assert.deepEqual(await wireError(createDirectory(`${d}/loop1/x`, true, true)), ELOOP);
    assert.deepEqual(await wireError(createDirectory('/proc/exec-desk-test/x', true, true)), ENOENT);
    await createDirectory(`${d}/link-to-dir`, true, true);
    await createDirectory(`${d}/link-to-dir/sub`, true, true);
    assert.ok(statSync(`${d}/dir/sub`).isDirectory());

    // followSymlinks: false walks the components itself.
    await createDirectory(`${d}/nf/a/b`, true, false);
    await createDirectory(`${d}/nf/a/b`, true, false);
    assert.deepEqual(await wireError(createDirectory(`${d}/link-to-dir`, true, false)), ENOTDIR);
    assert.deepEqual(await wireError(createDirectory(`${d}/hello.txt`, true, false)), ENOTDIR);
    assert.deepEqual(await wireError(createDirectory(`${d}/dangling`, true, false)), ENOTDIR);
    assert.deepEqual(await wireError(createDirectory(`${d}/link-to-dir/sub2`, true, false)), ENOTDIR);
    assert.deepEqual(await wireError(createDirectory(`${d}/link-to-dir`, false, false)), EEXIST);
    assert.deepEqual(await wireError(createDirectory(`${d}/link-to-dir/sub3`, false, false)), ENOTDIR);
    assert.deepEqual(await wireError(createDirectory(`${d}/nf2/a`, false, false)), ENOENT);
    await createDirectory(`${d}/nf3`, false, false);
    assert.ok(lstatSync(`${d}/nf3`).isDirectory());
  } finally {
    t.cleanup();
  }
});

test('getMetadata: targets when following, refusal and statx times when not', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    const file = await getMetadata(`${d}/hello.txt`, true);
    assert.deepEqual({ ...file, modifiedAtMs: 0 }, { isDirectory: false, isFile: true, isSymlink: false, size: 12, createdAtMs: 0, modifiedAtMs: 0 });
    assert.equal(file.modifiedAtMs, Number(statSync(`${d}/hello.txt`, { bigint: true }).mtimeNs / 1_000_000n));
    assert.deepEqual((await getMetadata(`${d}/link-to-hello`, true)).isSymlink, true);
    assert.deepEqual((await getMetadata(`${d}/link-to-hello`, true)).isFile, true);
    const dir = await getMetadata(`${d}/link-to-dir`, true);
    assert.equal(dir.isDirectory, true);
    assert.equal(dir.isSymlink, true);
    const fifo = await getMetadata(`${d}/fifo`, true);
    assert.equal(fifo.isFile || fifo.isDirectory, false);
    assert.deepEqual(await wireError(getMetadata(`${d}/dangling`, true)), ENOENT);
    assert.deepEqual(await wireError(getMetadata(`${d}/loop1`, true)), ELOOP);

    const symlinkRefused = { code: -32600, message: 'path contains a symbolic link' };
    assert.deepEqual(await wireError(getMetadata(`${d}/link-to-hello`, false)), symlinkRefused);
    assert.deepEqual(await wireError(getMetadata(`${d}/dangling`, false)), symlinkRefused);
    assert.deepEqual(await wireError(getMetadata(`${d}/link-to-dir/a.txt`, false)), ENOTDIR);
    assert.deepEqual(await wireError(getMetadata(`${d}/missing`, false)), ENOENT);
    const own = await getMetadata(`${d}/hello.txt`, false);
    const st = statSync(`${d}/hello.txt`, { bigint: true });
    assert.equal(own.createdAtMs, Number(st.birthtimeNs / 1_000_000n));
    assert.equal(own.modifiedAtMs, Number(st.mtimeNs / 1_000_000n));

    // Before 1970: clamped to 0 when following, negative (rounded down) when not.
    writeFileSync(`${d}/old`, 'x');
    utimesSync(`${d}/old`, new Date('1960-01-01T00:00:00.500Z'), new Date('1960-01-01T00:00:00.500Z'));
    assert.equal((await getMetadata(`${d}/old`, true)).modifiedAtMs, 0);
    assert.equal((await getMetadata(`${d}/old`, false)).modifiedAtMs, -315619199500);
    utimesSync(`${d}/old`, 1.9999, 1.9999);
    assert.equal((await getMetadata(`${d}/old`, true)).modifiedAtMs, 1999);
  } finally {
    t.cleanup();
  }
});

test('canonicalize resolves symlinks and dot-dot, and reports the OS errors', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    assert.equal(await canonicalize(`${d}/link-to-dir/a.txt`), `${d}/dir/a.txt`);
    assert.equal(await canonicalize(`${d}/link-to-hello`), `${d}/hello.txt`);
    assert.equal(await canonicalize('/'), '/');
    assert.deepEqual(await wireError(canonicalize(`${d}/dangling`)), ENOENT);
    assert.deepEqual(await wireError(canonicalize(`${d}/loop1`)), ELOOP);
    assert.deepEqual(await wireError(canonicalize(`${d}/hello.txt/x`)), ENOTDIR);
  } finally {
    t.cleanup();
  }
});

test('readDirectory: raw order, targets of symlinks, unreachable links left out', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    writeFileSync(`${d}/.hidden`, '');
    const entries = await readDirectory(d);
    const raw: string[] = [];
    const dir = opendirSync(d);
    for (let e = dir.readSync(); e !== null; e = dir.readSync()) raw.push(e.name);
    dir.closeSync();
    const expected = raw.filter((n) => !['dangling', 'loop1', 'loop2'].includes(n));
    assert.deepEqual(
      entries.map((e) => e.fileName),
      expected,
    );
    const byName = Object.fromEntries(entries.map((e) => [e.fileName, e]));
    assert.deepEqual(byName['link-to-dir'], { fileName: 'link-to-dir', isDirectory: true, isFile: false });
    assert.deepEqual(byName['link-to-hello'], { fileName: 'link-to-hello', isDirectory: false, isFile: true });
    assert.deepEqual(byName['fifo'], { fileName: 'fifo', isDirectory: false, isFile: false });
    assert.ok(byName['.hidden']);
    assert.deepEqual(await wireError(readDirectory(`${d}/hello.txt`)), ENOTDIR);
    assert.deepEqual(await wireError(readDirectory(`${d}/missing`)), ENOENT);
    assert.deepEqual(await wireError(readDirectory(`${d}/loop1`)), ELOOP);
    assert.deepEqual(await readDirectory(`${d}/link-to-dir`), [{ fileName: 'a.txt', isDirectory: false, isFile: true }]);
  } finally {
    t.cleanup();
  }
});

test('readDirectory refuses more than 50 000 entries with the reference text', async () => {
  const t = tempDir();
  try {
    for (let i = 0; i < 50_001; i++) writeFileSync(`${t.dir}/f${i}`, '');
    assert.deepEqual(await wireError(readDirectory(t.dir)), { code: -32603, message: 'fs/readDirectory returned 50001 entries; limit is 50000' });
  } finally {
    t.cleanup();
  }
});

test('removePath: trees, symlinks (never their targets), force, and no-follow rules', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    await removePath(`${d}/missing`, true, true, true);
    assert.deepEqual(await wireError(removePath(`${d}/missing`, true, false, true)), ENOENT);
    assert.deepEqual(await wireError(removePath(`${d}/missing/x`, true, false, true)), ENOENT);
    assert.deepEqual(await wireError(removePath(`${d}/hello.txt/x`, true, true, true)), ENOTDIR);

    mkdirSync(`${d}/tree/a/b`, { recursive: true });
    writeFileSync(`${d}/tree/a/b/f`, 'x');
    mkdirSync(`${d}/keep`);
    writeFileSync(`${d}/keep/k`, 'keep');
    symlinkSync(`${d}/keep`, `${d}/tree/a/link-out`);
    assert.deepEqual(await wireError(removePath(`${d}/tree`, false, true, true)), { code: -32603, message: 'Directory not empty (os error 39)' });
    await removePath(`${d}/tree`, true, true, true);
    assert.equal(existsSync(`${d}/tree`), false);
    assert.equal(readFileSync(`${d}/keep/k`, 'utf8'), 'keep');

    await removePath(`${d}/link-to-dir`, true, true, true);
    assert.equal(existsSync(`${d}/link-to-dir`), false);
    assert.equal(existsSync(`${d}/dir/a.txt`), true);
    mkdirSync(`${d}/empty`);
    await removePath(`${d}/empty`, false, true, true);
    await removePath(`${d}/fifo`, true, true, true);

    const unsupported = { code: -32603, message: 'recursive no-follow removal is unsupported' };
    assert.deepEqual(await wireError(removePath(`${d}/missing`, true, true, false)), unsupported);
    assert.deepEqual(await wireError(removePath(`${d}/link-to-hello`, false, true, false)), { code: -32600, message: 'path contains a symbolic link' });
    symlinkSync(`${d}/dir`, `${d}/link2`);
    assert.deepEqual(await wireError(removePath(`${d}/link2/a.txt`, false, true, false)), ENOTDIR);
    await removePath(`${d}/missing/x`, false, true, false);
    assert.deepEqual(await wireError(removePath(`${d}/missing`, false, false, false)), ENOENT);
    writeFileSync(`${d}/plain`, '');
    await removePath(`${d}/plain`, false, true, false);
    assert.equal(existsSync(`${d}/plain`), false);
  } finally {
    t.cleanup();
  }
});

test('permission errors map to -32600 (an immutable file: even root cannot remove or write it)', async (t) => {
  const tmp = tempDir();
  try {
    writeFileSync(`${tmp.dir}/locked`, 'x');
    if (!canChattr(`${tmp.dir}/locked`)) {
      t.skip('chattr +i is not available here (needs root and a filesystem with inode flags); root bypasses permission bits, so there is no other way to make the kernel refuse root');
      return;
    }
    execFileSync('chattr', ['+i', `${tmp.dir}/locked`]);
    const eperm = { code: -32600, message: 'Operation not permitted (os error 1)' };
    assert.deepEqual(await wireError(removePath(`${tmp.dir}/locked`, true, true, true)), eperm);
    assert.deepEqual(await wireError(removePath(tmp.dir, true, true, true)), eperm);
    assert.deepEqual(await wireError(writeFileData(`${tmp.dir}/locked`, Buffer.from('y'), true)), eperm);
    assert.equal(readFileSync(`${tmp.dir}/locked`, 'utf8'), 'x');
  } finally {
    tmp.cleanup();
  }
});

test('permission bits are enforced for unprivileged users (EACCES → -32600)', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run a helper as nobody');
    return;
  }
  const tmp = tempDir();
  try {
    chmodSync(tmp.dir, 0o755);
    writeFileSync(`${tmp.dir}/secret`, 'x');
    chmodSync(`${tmp.dir}/secret`, 0o600);
    // A child running as nobody reads it through the same module and prints the wire error.
    const script = `
      const { readWholeFile } = await import(${JSON.stringify(new URL('./fs-ops.ts', import.meta.url).href)});
      const { toRpcError } = await import(${JSON.stringify(new URL('./fs-errors.ts', import.meta.url).href)});
      try { await readWholeFile(${JSON.stringify(`${tmp.dir}/secret`)}, true); console.log('read'); }
      catch (e) { const r = toRpcError(e); console.log(JSON.stringify({ code: r.code, message: r.message })); }`;
    let out: string;
    try {
      out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
        cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      });
    } catch (err) {
      t.skip(`cannot run a helper as nobody here: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    assert.deepEqual(JSON.parse(out.trim()), { code: -32600, message: 'Permission denied (os error 13)' });
  } finally {
    tmp.cleanup();
  }
});

test('copyPath: files keep their mode, trees merge, symlinks stay symlinks', async () => {
  const t = fixture();
  const d = t.dir;
  try {
    chmodSync(`${d}/hello.txt`, 0o4751);
    await copyPath(`${d}/hello.txt`, `${d}/copy.txt`, false);
    assert.equal(readFileSync(`${d}/copy.txt`, 'utf8'), 'hello world\n');
    assert.equal(statSync(`${d}/copy.txt`).mode & 0o7777, 0o4751);
    writeFileSync(`${d}/over`, 'a longer old content');
    await copyPath(`${d}/hello.txt`, `${d}/over`, true);
    assert.equal(readFileSync(`${d}/over`, 'utf8'), 'hello world\n');
    // Onto itself: a no-op (the reference truncates the file to 0 bytes).
    await copyPath(`${d}/hello.txt`, `${d}/hello.txt`, false);
    assert.equal(readFileSync(`${d}/hello.txt`, 'utf8'), 'hello world\n');

    await copyPath(`${d}/link-to-dir`, `${d}/link-copy`, false);
    assert.equal(readlinkSync(`${d}/link-copy`), `${d}/dir`);
    await copyPath(`${d}/dangling`, `${d}/dangling-copy`, false);
    assert.equal(readlinkSync(`${d}/dangling-copy`), `${d}/nope`);
    assert.deepEqual(await wireError(copyPath(`${d}/dangling`, `${d}/copy.txt`, false)), EEXIST);

    mkdirSync(`${d}/src/sub`, { recursive: true });
    chmodSync(`${d}/src/sub`, 0o750);
    writeFileSync(`${d}/src/sub/x`, 'new');
    writeFileSync(`${d}/src/.hidden`, 'h');
    symlinkSync('sub/x', `${d}/src/rel`);
    execFileSync('mkfifo', [`${d}/src/fifo`]);
    mkdirSync(`${d}/dst/sub`, { recursive: true });
    writeFileSync(`${d}/dst/sub/x`, 'old, longer');
    chmodSync(`${d}/dst/sub`, 0o700);
    writeFileSync(`${d}/dst/keep`, 'keep');
    await copyPath(`${d}/src`, `${d}/dst`, true);
    assert.equal(readFileSync(`${d}/dst/sub/x`, 'utf8'), 'new');
    assert.equal(readFileSync(`${d}/dst/keep`, 'utf8'), 'keep');
    assert.equal(readFileSync(`${d}/dst/.hidden`, 'utf8'), 'h');
    assert.equal(readlinkSync(`${d}/dst/rel`), 'sub/x');
    assert.equal(existsSync(`${d}/dst/fifo`), false);
    assert.equal(statSync(`${d}/dst/sub`).mode & 0o777, 0o700); // an existing directory keeps its mode
    await copyPath(`${d}/src`, `${d}/fresh/deep/copy`, true);
    assert.equal(statSync(`${d}/fresh/deep/copy/sub`).mode & 0o777, 0o777 & ~process.umask()); // modes are not copied
    // A second copy into a tree holding the symlinks fails on them, like the reference.
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/dst`, true)), EEXIST);

    const needsRecursive = { code: -32600, message: 'fs/copy requires recursive: true when sourcePath is a directory' };
    const intoItself = { code: -32600, message: 'fs/copy cannot copy a directory to itself or one of its descendants' };
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/x`, false)), needsRecursive);
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/src/inside`, false)), needsRecursive);
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/src`, true)), intoItself);
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/src/sub/new/deeper`, true)), intoItself);
    symlinkSync(`${d}/src`, `${d}/src-link`);
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/src-link/x`, true)), intoItself);
    assert.deepEqual(await wireError(copyPath(`${d}/fifo`, `${d}/x`, true)), {
      code: -32600,
      message: 'fs/copy only supports regular files, directories, and symlinks',
    });
    assert.deepEqual(await wireError(copyPath(`${d}/missing`, `${d}/x`, false)), ENOENT);
    assert.deepEqual(await wireError(copyPath(`${d}/hello.txt`, `${d}/nodir/x`, false)), ENOENT);
    assert.deepEqual(await wireError(copyPath(`${d}/hello.txt`, `${d}/dir`, false)), EISDIR);
    assert.deepEqual(await wireError(copyPath(`${d}/hello.txt`, `${d}/hello.txt/x`, false)), ENOTDIR);
    assert.deepEqual(await wireError(copyPath(`${d}/src`, `${d}/hello.txt`, true)), EEXIST);
  } finally {
    t.cleanup();
  }
});
