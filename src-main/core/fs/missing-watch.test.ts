import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync, renameSync, rmdirSync } from 'node:fs';
import { PathUri } from '../protocol/path-uri.ts';
import { MissingWatchSlot, MOUNT_POLL_MS, setMountsFileForTests } from './missing-watch.ts';
import { sleep, tempDir } from './test-support.ts';

/** A watch slot recording what fired. */
function slot() {
  const fired: bigint[] = [];
  const s = new MissingWatchSlot((id) => fired.push(id));
  return { s, fired };
}

const uri = (path: string) => PathUri.parse(`file://${path}`);

async function settle(ms = 150): Promise<void> {
  await sleep(ms);
}

test('fires once when the missing path appears; later changes do not fire again', async () => {
  const t = tempDir('watch-');
  const { s, fired } = slot();
  try {
    assert.equal(await s.watch({ watchId: 3n, missing: [uri(`${t.dir}/p1`)], present: null }), true);
    await settle(50);
    assert.deepEqual(fired, []);
    writeFileSync(`${t.dir}/p1`, 'x');
    await settle();
    assert.deepEqual(fired, [3n]);
    assert.equal(s.active, false);
    rmSync(`${t.dir}/p1`);
    writeFileSync(`${t.dir}/p1`, 'y');
    await settle();
    assert.deepEqual(fired, [3n]);
  } finally {
    s.dispose();
    t.cleanup();
  }
});

test('a directory appearing on the way fires; unrelated siblings do not', async () => {
  const t = tempDir('watch-');
  const { s, fired } = slot();
  try {
    assert.equal(await s.watch({ watchId: 1n, missing: [uri(`${t.dir}/d1/d2/f`)], present: null }), true);
    writeFileSync(`${t.dir}/sibling`, '');
    await settle();
    assert.deepEqual(fired, []);
    mkdirSync(`${t.dir}/d1`);
    await settle();
    assert.deepEqual(fired, [1n]);

    assert.equal(await s.watch({ watchId: 2n, missing: [uri(`${t.dir}/d1/d2/f`)], present: null }), true);
    writeFileSync(`${t.dir}/d1/other`, '');
    await settle();
    assert.deepEqual(fired, [1n]);
    mkdirSync(`${t.dir}/d1/d2`);
    await settle();
    assert.deepEqual(fired, [1n, 2n]);

    // A rename into place and a dangling symlink both count as appearing.
    assert.equal(await s.watch({ watchId: 4n, missing: [uri(`${t.dir}/r1`)], present: null }), true);
    writeFileSync(`${t.dir}/tmp`, '');
    renameSync(`${t.dir}/tmp`, `${t.dir}/r1`);
    await settle();
    assert.equal(await s.watch({ watchId: 5n, missing: [uri(`${t.dir}/dang`)], present: null }), true);
    symlinkSync('/nonexistent-target', `${t.dir}/dang`);
    await settle();
    assert.deepEqual(fired, [1n, 2n, 4n, 5n]);
    // Removing or chmod'ing the watched ancestor fires too.
    assert.equal(await s.watch({ watchId: 6n, missing: [uri(`${t.dir}/d1/d2/x/y`)], present: null }), true);
    rmdirSync(`${t.dir}/d1/d2`);
    await settle();
    assert.equal(await s.watch({ watchId: 7n, missing: [uri(`${t.dir}/m`)], present: null }), true);
    chmodSync(t.dir, 0o755);
    await settle();
    assert.deepEqual(fired, [1n, 2n, 4n, 5n, 6n, 7n]);
  } finally {
    s.dispose();
    t.cleanup();
  }
});

test('watching is false for empty lists, paths that exist or cannot be checked, and ids that do not increase', async () => {
  const t = tempDir('watch-');
  const { s, fired } = slot();
  try {
    writeFileSync(`${t.dir}/e1`, 'x');
    symlinkSync('/nonexistent-target', `${t.dir}/dang`);
    assert.equal(await s.watch({ watchId: 0n, missing: [uri(`${t.dir}/m0`)], present: null }), false, 'ids start above 0');
    assert.equal(await s.watch({ watchId: 1n, missing: [], present: null }), false);
    assert.equal(await s.watch({ watchId: 2n, missing: [uri(`${t.dir}/e1`)], present: null }), false);
    assert.equal(await s.watch({ watchId: 3n, missing: [uri(`${t.dir}/m1`), uri(`${t.dir}/e1`)], present: null }), false);
    assert.equal(await s.watch({ watchId: 4n, missing: [uri(`${t.dir}/dang`)], present: null }), false);
    assert.equal(await s.watch({ watchId: 5n, missing: [uri(`${t.dir}/e1/x`)], present: null }), false, 'ENOTDIR is not "missing"');
    assert.equal(await s.watch({ watchId: 6n, missing: [uri(`${t.dir}/${'x'.repeat(300)}`)], present: null }), false);
    assert.equal(await s.watch({ watchId: 7n, missing: [PathUri.parse('file://host/x')], present: null }), false);
    assert.equal(await s.watch({ watchId: 8n, missing: [uri(`${t.dir}/m5`)], present: uri(`${t.dir}/m5`) }), false, 'present must exist');
    assert.equal(await s.watch({ watchId: 9n, missing: [uri(`${t.dir}/m5`)], present: PathUri.parse('file://host/x') }), false);

    // A lower id changes nothing: the current watch keeps running.
    assert.equal(await s.watch({ watchId: 40n, missing: [uri(`${t.dir}/m1`)], present: null }), true);
    assert.equal(await s.watch({ watchId: 35n, missing: [uri(`${t.dir}/m2`)], present: null }), false);
    assert.equal(await s.watch({ watchId: 40n, missing: [uri(`${t.dir}/m2`)], present: null }), false);
    writeFileSync(`${t.dir}/m1`, '');
    await settle();
    assert.deepEqual(fired, [40n]);

    // A greater id replaces the watch even when it answers false; a refused id still counts.
    assert.equal(await s.watch({ watchId: 41n, missing: [uri(`${t.dir}/m3`)], present: null }), true);
    assert.equal(await s.watch({ watchId: 42n, missing: [uri(`${t.dir}/e1`)], present: null }), false);
    assert.equal(await s.watch({ watchId: 42n, missing: [uri(`${t.dir}/m4`)], present: null }), false);
    writeFileSync(`${t.dir}/m3`, '');
    await settle();
    assert.deepEqual(fired, [40n]);
    assert.equal(await s.watch({ watchId: 2n ** 64n - 1n, missing: [uri(`${t.dir}/m4`)], present: null }), true);
    writeFileSync(`${t.dir}/m4`, '');
    await settle();
    assert.deepEqual(fired, [40n, 2n ** 64n - 1n]);
  } finally {
    s.dispose();
    t.cleanup();
  }
});

test('present: written, chmod-ed, touched or removed fires; reading it or filling its directory does not', async () => {
  const t = tempDir('watch-');
  const { s, fired } = slot();
  try {
    writeFileSync(`${t.dir}/p`, 'x');
    mkdirSync(`${t.dir}/pd`);
    const missing = [uri(`${t.dir}/m`)];
    let id = 0n;
    const arm = async (present: string) => assert.equal(await s.watch({ watchId: ++id, missing, present: uri(present) }), true);

    await arm(`${t.dir}/p`);
    readFileSync(`${t.dir}/p`);
    await settle();
    assert.deepEqual(fired, []);
    writeFileSync(`${t.dir}/p`, 'modified');
    await settle();
    assert.deepEqual(fired, [1n]);
    await arm(`${t.dir}/p`);
    chmodSync(`${t.dir}/p`, 0o600);
    await settle();
    await arm(`${t.dir}/p`);
    utimesSync(`${t.dir}/p`, new Date(), new Date());
    await settle();
    assert.deepEqual(fired, [1n, 2n, 3n]);

    await arm(`${t.dir}/pd`);
    writeFileSync(`${t.dir}/pd/child`, '');
    await settle();
    assert.deepEqual(fired, [1n, 2n, 3n]);
    rmSync(`${t.dir}/pd`, { recursive: true });
    await settle();
    assert.deepEqual(fired, [1n, 2n, 3n, 4n]);
  } finally {
    s.dispose();
    t.cleanup();
  }
});

test('a mount table change fires (the poller compares /proc/self/mounts; a stand-in file here)', async () => {
  const tmp = tempDir('watch-');
  const mounts = `${tmp.dir}/mounts`;
  writeFileSync(mounts, 'proc /proc proc rw 0 0\n');
  setMountsFileForTests(mounts);
  const { s, fired } = slot();
  try {
    assert.equal(await s.watch({ watchId: 1n, missing: [uri(`${tmp.dir}/never`)], present: null }), true);
    await settle(MOUNT_POLL_MS * 2);
    assert.deepEqual(fired, []);
    writeFileSync(mounts, 'proc /proc proc rw 0 0\ntmpfs /mnt tmpfs rw 0 0\n');
    await settle(MOUNT_POLL_MS * 3);
    assert.deepEqual(fired, [1n]);
  } finally {
    s.dispose();
    setMountsFileForTests(null);
    tmp.cleanup();
  }
});

test('dispose (connection end) cancels the watch', async () => {
  const t = tempDir('watch-');
  const { s, fired } = slot();
  try {
    assert.equal(await s.watch({ watchId: 1n, missing: [uri(`${t.dir}/p`)], present: null }), true);
    s.dispose();
    writeFileSync(`${t.dir}/p`, '');
    await settle();
    assert.deepEqual(fired, []);
    assert.equal(await s.watch({ watchId: 2n, missing: [uri(`${t.dir}/q`)], present: null }), false);
  } finally {
    t.cleanup();
  }
});
