import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputLog, RETAINED_OUTPUT_BYTES, RETAINED_OUTPUT_CHUNKS } from './output-log.ts';

const line = (n: number) => Buffer.from(`line${n}\n`);
const seqs = (log: OutputLog, afterSeq: number, maxBytes: number | null) => {
  const r = log.read(afterSeq, maxBytes);
  return { seqs: r.chunks.map((c) => c.seq), nextSeq: r.nextSeq };
};

test('one counter over output, exited and closed, starting at 1', () => {
  const log = new OutputLog();
  assert.equal(log.append('stdout', line(1)).seq, 1);
  assert.equal(log.append('stderr', line(2)).seq, 2);
  assert.equal(log.takeSeq(), 3);
  assert.equal(log.append('stdout', line(3)).seq, 4);
  assert.equal(log.takeSeq(), 5);
  assert.equal(log.nextSeq, 6);
  const r = log.read(0, null);
  assert.deepEqual(r.chunks.map((c) => [c.seq, c.stream, c.bytes.toString()]), [
    [1, 'stdout', 'line1\n'],
    [2, 'stderr', 'line2\n'],
    [4, 'stdout', 'line3\n'],
  ]);
  assert.equal(r.nextSeq, 6);
  assert.deepEqual(seqs(log, 2, null), { seqs: [4], nextSeq: 6 });
  assert.deepEqual(seqs(log, 3, null), { seqs: [4], nextSeq: 6 });
});

test('maxBytes pagination matches the §6.3 transcript (six 6-byte lines, exited + closed)', () => {
  const log = new OutputLog();
  for (let i = 1; i <= 6; i++) log.append('stdout', line(i));
  log.takeSeq(); // exited = 7
  log.takeSeq(); // closed = 8
  assert.deepEqual(seqs(log, 0, 12), { seqs: [1, 2], nextSeq: 3 });
  assert.deepEqual(seqs(log, 2, 12), { seqs: [3, 4], nextSeq: 5 });
  assert.deepEqual(seqs(log, 4, 12), { seqs: [5, 6], nextSeq: 7 });
  // Nothing left: nextSeq falls back to the process's next seq.
  assert.deepEqual(seqs(log, 6, 12), { seqs: [], nextSeq: 9 });
  assert.deepEqual(seqs(log, 0, null), { seqs: [1, 2, 3, 4, 5, 6], nextSeq: 9 });
  // The first chunk is always included, even over budget; 0 and 1 behave alike.
  assert.deepEqual(seqs(log, 0, 1), { seqs: [1], nextSeq: 2 });
  assert.deepEqual(seqs(log, 0, 0), { seqs: [1], nextSeq: 2 });
  // Stops as soon as the total reaches maxBytes; never goes over it after the first chunk.
  assert.deepEqual(seqs(log, 0, 11), { seqs: [1], nextSeq: 2 });
  assert.deepEqual(seqs(log, 0, 13), { seqs: [1, 2], nextSeq: 3 });
  assert.deepEqual(seqs(log, 0, 1000), { seqs: [1, 2, 3, 4, 5, 6], nextSeq: 7 });
});

test('a big first chunk is returned alone and stops the page', () => {
  const log = new OutputLog();
  log.append('stdout', Buffer.alloc(100));
  log.append('stdout', Buffer.alloc(1));
  assert.deepEqual(seqs(log, 0, 10), { seqs: [1], nextSeq: 2 });
  assert.deepEqual(seqs(log, 1, 10), { seqs: [2], nextSeq: 3 });
});

test('keeps at most 1 MiB, evicting whole chunks from the front', () => {
  const log = new OutputLog();
  const chunk = 8192;
  let produced = 0;
  for (let i = 0; produced < 3_000_000; i++) {
    log.append('stdout', Buffer.alloc(chunk, i & 0xff));
    produced += chunk;
  }
  assert.ok(log.retainedBytes <= RETAINED_OUTPUT_BYTES);
  assert.ok(log.retainedBytes > RETAINED_OUTPUT_BYTES - chunk);
  const r = log.read(0, null);
  const total = r.chunks.reduce((n, c) => n + c.bytes.length, 0);
  assert.equal(total, log.retainedBytes);
  assert.equal(r.chunks[r.chunks.length - 1]!.seq, log.nextSeq - 1);
  assert.equal(r.chunks[0]!.seq, log.nextSeq - r.chunks.length);
  // afterSeq below the oldest retained chunk just returns what is left.
  assert.equal(log.read(5, null).chunks.length, r.chunks.length);
  // Contiguous and ascending.
  r.chunks.forEach((c, i) => i > 0 && assert.equal(c.seq, r.chunks[i - 1]!.seq + 1));
});

test('keeps at most 50 000 chunks', () => {
  const log = new OutputLog();
  const one = Buffer.from('x');
  for (let i = 0; i < RETAINED_OUTPUT_CHUNKS + 1234; i++) log.append('stdout', one);
  assert.equal(log.retainedChunks, RETAINED_OUTPUT_CHUNKS);
  const r = log.read(0, null);
  assert.equal(r.chunks.length, RETAINED_OUTPUT_CHUNKS);
  assert.equal(r.chunks[0]!.seq, 1235);
  assert.deepEqual(seqs(log, 1300, 2), { seqs: [1301, 1302], nextSeq: 1303 });
});

test('custom limits, gaps from events, and hasChunksAfter', () => {
  const log = new OutputLog({ maxBytes: 10 });
  log.append('stdout', Buffer.alloc(6));
  log.takeSeq();
  log.append('stderr', Buffer.alloc(6)); // evicts seq 1
  assert.deepEqual(seqs(log, 0, null), { seqs: [3], nextSeq: 4 });
  assert.equal(log.hasChunksAfter(2), true);
  assert.equal(log.hasChunksAfter(3), false);
  assert.equal(new OutputLog().hasChunksAfter(0), false);
});

test('tail returns the last bytes across chunks without losing order', () => {
  const log = new OutputLog();
  log.append('stdout', Buffer.from('hello '));
  log.append('stderr', Buffer.from('big '));
  log.append('stdout', Buffer.from('world'));
  assert.equal(log.tail(9).toString(), 'big world');
  assert.equal(log.tail(7).toString(), 'g world');
  assert.equal(log.tail(1000).toString(), 'hello big world');
  assert.equal(new OutputLog().tail(10).length, 0);
});

test('chunks keep the caller’s buffer (no copy)', () => {
  const log = new OutputLog();
  const buf = Buffer.from('abc');
  assert.equal(log.append('pty', buf).bytes, buf);
  assert.equal(log.read(0, null).chunks[0]!.bytes, buf);
});
