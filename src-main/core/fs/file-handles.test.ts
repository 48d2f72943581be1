import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, appendFileSync, mkdirSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { toRpcError } from './fs-errors.ts';
import { FileHandleTable } from './file-handles.ts';
import { tempDir } from './test-support.ts';

/** A readBlock result as the client sees it (plain object, or pre-serialized JSON bytes). */
function decoded(result: unknown): { chunk: string; eof: boolean } {
  const bytes = (result as { bytes?: unknown }).bytes;
  return Buffer.isBuffer(bytes) ? JSON.parse(bytes.toString('latin1')) : (result as { chunk: string; eof: boolean });
}

async function read(table: FileHandleTable, id: string, offset: number | bigint, len: number): Promise<{ data: Buffer; eof: boolean }> {
  const r = decoded(await table.readBlock(id, BigInt(offset), len));
  return { data: Buffer.from(r.chunk, 'base64'), eof: r.eof };
}

async function wireError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const e = toRpcError(err);
    return `${e.code} ${e.message}`;
  }
  assert.fail('expected a failure');
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

test('a 256 MiB sparse file streams through a handle in 1 MiB blocks', async () => {
  const t = tempDir('handles-');
  const path = `${t.dir}/big.bin`;
  const size = 256 * 1024 * 1024 + 12345;
  const markers = new Map<number, Buffer>();
  try {
    const fd = openSync(path, 'w');
    ftruncateSync(fd, size);
    for (let i = 0; i < 16; i++) {
      const offset = i * 17 * 1024 * 1024 + i * 4099; // crosses block boundaries
      const marker = Buffer.from(`marker-${i}-\u00ff\u0000`, 'latin1');
      writeSync(fd, marker, 0, marker.length, offset);
      markers.set(offset, marker);
    }
    writeSync(fd, Buffer.from('END'), 0, 3, size - 3);
    closeSync(fd);
    const expected = (start: number, length: number) => {
      const out = Buffer.alloc(length);
      for (const [offset, marker] of markers) {
        for (let k = 0; k < marker.length; k++) if (offset + k >= start && offset + k < start + length) out[offset + k - start] = marker[k]!;
      }
      if (start + length > size - 3) Buffer.from('END').copy(out, size - 3 - start);
      return out;
    };
    const table = new FileHandleTable();
    await table.open('big', path, 'read');
    let offset = 0;
    let blocks = 0;
    for (;;) {
      const { data, eof } = await read(table, 'big', offset, 1024 * 1024);
      assert.ok(data.equals(expected(offset, data.length)), `block at ${offset}`);
      offset += data.length;
      blocks++;
      if (eof) break;
    }
    assert.equal(offset, size);
    assert.equal(blocks, 257);
    await table.close('big');
  } finally {
    t.cleanup();
  }
});

test('binary round trip through a replace handle; sparse gaps read as zeros', async () => {
  const t = tempDir('handles-');
  try {
    const table = new FileHandleTable();
    writeFileSync(`${t.dir}/w.bin`, 'old content that is long');
    await table.open('w', `${t.dir}/w.bin`, 'replace');
    assert.equal(statSync(`${t.dir}/w.bin`).size, 0, 'truncated at open time');
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    await table.writeBlock('w', 0n, Buffer.from('hello'));
    await table.writeBlock('w', 10n, Buffer.from('world'));
    await table.writeBlock('w', 100n, bytes);
    const content = readFileSync(`${t.dir}/w.bin`);
    assert.equal(content.subarray(0, 15).toString('latin1'), 'hello\0\0\0\0\0world');
    assert.deepEqual(content.subarray(100), bytes);
    assert.equal(await wireError(table.readBlock('w', 0n, 5)), '-32603 Bad file descriptor (os error 9)');
    assert.equal(await wireError(table.readBlock('w', 0n, 5)), '-32004 unknown file handle `w`', 'a read error closes the handle');

    await table.open('r', `${t.dir}/w.bin`, 'read');
    assert.equal(await wireError(table.writeBlock('r', 0n, Buffer.from('x'))), '-32603 Bad file descriptor (os error 9)');
    assert.deepEqual((await read(table, 'r', 100, 256)).data, bytes, 'a write error leaves the handle open');
    assert.deepEqual(await read(table, 'r', 100, 256), { data: bytes, eof: false });
    assert.deepEqual(await read(table, 'r', 356, 1), { data: Buffer.alloc(0), eof: true });
    assert.deepEqual(await read(table, 'r', 99, 1000), { data: Buffer.concat([Buffer.alloc(1), bytes]), eof: true });
  } finally {
    t.cleanup();
  }
});

test('a handle keeps reading its file after the path is replaced, unlinked or appended to', async () => {
  const t = tempDir('handles-');
  try {
    const table = new FileHandleTable();
    writeFileSync(`${t.dir}/rep`, 'original');
    await table.open('rep', `${t.dir}/rep`, 'read');
    writeFileSync(`${t.dir}/rep.new`, 'replacement!');
    renameSync(`${t.dir}/rep.new`, `${t.dir}/rep`);
    assert.equal((await read(table, 'rep', 0, 100)).data.toString(), 'original');

    writeFileSync(`${t.dir}/unl`, 'to be unlinked');
    await table.open('unl', `${t.dir}/unl`, 'read');
    unlinkSync(`${t.dir}/unl`);
    assert.equal((await read(table, 'unl', 0, 100)).data.toString(), 'to be unlinked');

    writeFileSync(`${t.dir}/app`, 'abc');
    await table.open('app', `${t.dir}/app`, 'read');
    appendFileSync(`${t.dir}/app`, 'def');
    assert.equal((await read(table, 'app', 0, 100)).data.toString(), 'abcdef');
  } finally {
    t.cleanup();
  }
});

test('open: id length, duplicates, the 128 limit counting in-flight opens, and file checks', async () => {
  const t = tempDir('handles-');
  try {
    writeFileSync(`${t.dir}/f`, 'x');
    mkdirSync(`${t.dir}/dir`);
    execFileSync('mkfifo', [`${t.dir}/fifo`]);
    const table = new FileHandleTable();
    assert.equal(await wireError(table.open('x'.repeat(33), `${t.dir}/missing`, 'read')), '-32600 file handle ID must not exceed 32 bytes');
    assert.equal(await wireError(table.open('\u00e9'.repeat(17), `${t.dir}/f`, 'read')), '-32600 file handle ID must not exceed 32 bytes');
    await table.open('\u00e9'.repeat(16), `${t.dir}/f`, 'read');
    await table.open('', `${t.dir}/f`, 'read');
    assert.equal(await wireError(table.open('', `${t.dir}/missing`, 'read')), '-32600 file handle `` already exists');
    assert.equal(await wireError(table.open('h', `${t.dir}/missing`, 'read')), '-32004 No such file or directory (os error 2)');
    assert.equal(await wireError(table.open('h', `${t.dir}/dir`, 'read')), `-32600 path \`${t.dir}/dir\` is not a file`);
    assert.equal(await wireError(table.open('h', `${t.dir}/fifo`, 'read')), `-32600 path \`${t.dir}/fifo\` is not a file`);
    assert.equal(await wireError(table.open('h', '/dev/null', 'replace')), '-32600 path `/dev/null` is not a file');
    assert.equal(await wireError(table.open('h', `${t.dir}/fifo`, 'replace')), '-32603 No such device or address (os error 6)');
    assert.equal(await wireError(table.open('h', `${t.dir}/dir`, 'replace')), '-32603 Is a directory (os error 21)');
    assert.equal(await wireError(table.open('h', `${t.dir}/nodir/x`, 'replace')), '-32004 No such file or directory (os error 2)');
    assert.equal(table.size, 2);

    // 126 more (128 in all), started together: in-flight opens count toward the limit.
    const opens = Array.from({ length: 127 }, (_, i) => table.open(`h${i}`, `${t.dir}/f`, 'read'));
    const settled = await Promise.allSettled(opens);
    assert.equal(settled.filter((s) => s.status === 'fulfilled').length, 126);
    const refused = settled.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    assert.equal(toRpcError(refused.reason).message, 'at most 128 file handles may be open per connection');
    assert.equal(table.size, 128);
    assert.equal(await wireError(table.open('h129', `${t.dir}/f`, 'read')), '-32600 at most 128 file handles may be open per connection');
    assert.equal(await wireError(table.open('h0', `${t.dir}/f`, 'read')), '-32600 file handle `h0` already exists');
    await table.close('h0');
    await table.open('h129', `${t.dir}/f`, 'read');
    table.dispose();
  } finally {
    t.cleanup();
  }
});

test('block validation happens before the handle lookup; huge offsets behave like the kernel', async () => {
  const t = tempDir('handles-');
  try {
    writeFileSync(`${t.dir}/f`, 'hello world\n');
    const table = new FileHandleTable();
    const readLen = '-32600 file read block length must be between 1 and 1048576';
    const writeLen = '-32600 file write block length must be between 1 and 1048576';
    assert.equal(await wireError(table.readBlock('nope', 0n, 0)), readLen);
    assert.equal(await wireError(table.readBlock('nope', 0n, 1048577)), readLen);
    assert.equal(await wireError(table.readBlock('nope', 0n, 1)), '-32004 unknown file handle `nope`');
    assert.equal(await wireError(table.writeBlock('nope', 0n, Buffer.alloc(0))), writeLen);
    assert.equal(await wireError(table.writeBlock('nope', 0n, Buffer.alloc(1048577))), writeLen);
    const range = '-32600 file write range exceeds the signed 64-bit file offset limit';
    assert.equal(await wireError(table.writeBlock('nope', 2n ** 63n - 5n, Buffer.alloc(5))), range);
    assert.equal(await wireError(table.writeBlock('nope', 2n ** 64n - 1n, Buffer.alloc(1))), range);
    assert.equal(await wireError(table.writeBlock('nope', 0n, Buffer.alloc(1))), '-32004 unknown file handle `nope`');

    await table.open('r', `${t.dir}/f`, 'read');
    assert.deepEqual(await read(table, 'r', 2n ** 53n + 1n, 1), { data: Buffer.alloc(0), eof: true });
    assert.deepEqual(await read(table, 'r', 2n ** 63n - 2n, 1), { data: Buffer.alloc(0), eof: true });
    assert.equal(await wireError(table.readBlock('r', 2n ** 63n - 1n, 1)), '-32600 Invalid argument (os error 22)');
    assert.equal(await wireError(table.readBlock('r', 0n, 1)), '-32004 unknown file handle `r`');
    await table.open('r', `${t.dir}/f`, 'read');
    assert.equal(await wireError(table.readBlock('r', 2n ** 64n - 1n, 1)), '-32600 Invalid argument (os error 22)');

    await table.open('w', `${t.dir}/w`, 'replace');
    assert.equal(await wireError(table.writeBlock('w', 2n ** 53n, Buffer.from('x'))), '-32603 File too large (os error 27)');
    await table.writeBlock('w', 0n, Buffer.from('x'));
    assert.equal(readFileSync(`${t.dir}/w`, 'utf8'), 'x');
    assert.deepEqual(await table.close('never-opened'), {});
    assert.equal(await wireError(table.close('x'.repeat(33))), '-32600 file handle ID must not exceed 32 bytes');
  } finally {
    t.cleanup();
  }
});

test('concurrent handles read independently; close waits for an in-flight read; dispose closes every fd', async () => {
  const t = tempDir('handles-');
  try {
    const table = new FileHandleTable();
    const before = openFds();
    const files = Array.from({ length: 8 }, (_, i) => {
      const data = Buffer.alloc(3 * 1024 * 1024 + i, i + 1);
      writeFileSync(`${t.dir}/f${i}`, data);
      return data;
    });
    await Promise.all(files.map((_, i) => table.open(`h${i}`, `${t.dir}/f${i}`, 'read')));
    assert.equal(openFds(), before + 8);
    const reads = files.flatMap((data, i) => [0, 1, 2, 3].map(async (block) => {
      const r = await read(table, `h${i}`, block * 1024 * 1024, 1024 * 1024);
      assert.ok(r.data.equals(data.subarray(block * 1024 * 1024, (block + 1) * 1024 * 1024)));
      return r;
    }));
    await Promise.all(reads);

    const inflight = read(table, 'h0', 0, 1024 * 1024);
    const closed = table.close('h0');
    assert.equal((await inflight).data.length, 1024 * 1024);
    await closed;
    assert.equal(await wireError(table.readBlock('h0', 0n, 1)), '-32004 unknown file handle `h0`');

    table.dispose();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(openFds(), before);
    assert.equal(await wireError(table.readBlock('h1', 0n, 1)), '-32004 unknown file handle `h1`');
  } finally {
    t.cleanup();
  }
});
