import { test, afterEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcError } from '../rpc/errors.ts';
import { ProcessTable, type ProcessEvent, type ProcessInfo, type StartSpec } from './process-table.ts';
import { eventually, isAlive, sleep } from './test-support.ts';
import { referenceAvailable, startServer } from '../../testkit/server-process.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';

interface Note {
  method: string;
  params: any;
}

/** A table plus everything it notified, with waits on notifications. */
class Harness {
  readonly notes: Note[] = [];
  readonly changes: Array<[ProcessEvent, ProcessInfo]> = [];
  readonly table: ProcessTable;
  private waiters: Array<{ match: (n: Note) => boolean; resolve: (n: Note) => void }> = [];

  constructor(retentionMs?: number) {
    this.table = new ProcessTable({
      notify: (method, params) => {
        const note = { method, params };
        this.notes.push(note);
        this.waiters = this.waiters.filter((w) => !(w.match(note) && (w.resolve(note), true)));
      },
      retentionMs,
      onChange: (info, event) => this.changes.push([event, info]),
    });
    harnesses.push(this);
  }

  start(processId: string, spec: Partial<StartSpec>) {
    return this.table.start({ processId, argv: [], cwd: '/', env: { PATH: '/usr/bin:/bin' }, envPolicy: null, tty: false, pipeStdin: false, arg0: null, ...spec });
  }

  waitFor(method: string, processId: string, timeoutMs = 10_000): Promise<Note> {
    const match = (n: Note) => n.method === method && n.params.processId === processId;
    const seen = this.notes.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${method} for ${processId}`)), timeoutMs);
      this.waiters.push({ match, resolve: (n) => (clearTimeout(timer), resolve(n)) });
    });
  }

  of(processId: string): Note[] {
    return this.notes.filter((n) => n.params.processId === processId);
  }

  output(processId: string, stream?: string): Buffer {
    return Buffer.concat(
      this.of(processId)
        .filter((n) => n.method === 'process/output' && (stream === undefined || n.params.stream === stream))
        .map((n) => Buffer.from(n.params.chunk, 'base64')),
    );
  }
}

let harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.map((h) => h.table.terminateAll()));
  harnesses = [];
});

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'process-table-'));
  writeFileSync(join(dir, 'noshebang'), 'echo hi\n');
  chmodSync(join(dir, 'noshebang'), 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function rpcError(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RpcError, String(err));
    return { code: err.code, message: err.message };
  }
  assert.fail('expected an RpcError');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail('expected a rejection');
}

test('notifications: one seq counter, output in order, exited then closed last', async () => {
  const h = new Harness();
  assert.deepEqual(h.start('p1', { argv: ['/bin/sh', '-c', 'echo out1; sleep 0.05; echo err1 >&2; sleep 0.05; echo out2; exit 3'] }), {
    processId: 'p1',
    sandboxType: 'none',
  });
  await h.waitFor('process/closed', 'p1');
  const notes = h.of('p1');
  assert.deepEqual(
    notes.map((n) => n.params.seq),
    notes.map((_, i) => i + 1),
  );
  assert.deepEqual(
    notes.map((n) => [n.method, n.params.stream ?? null, n.params.chunk ?? null]),
    [
      ['process/output', 'stdout', 'b3V0MQo='],
      ['process/output', 'stderr', 'ZXJyMQo='],
      ['process/output', 'stdout', 'b3V0Mgo='],
      ['process/exited', null, null],
      ['process/closed', null, null],
    ],
  );
  assert.deepEqual(notes[3]!.params, { processId: 'p1', seq: 4, exitCode: 3, sandboxDenied: false });
  assert.deepEqual(notes[4]!.params, { processId: 'p1', seq: 5 });
  assert.deepEqual(
    h.changes.filter(([, i]) => i.processId === 'p1').map(([e]) => e),
    ['started', 'output', 'output', 'output', 'exited', 'closed'],
  );
  const info = h.table.list().find((i) => i.processId === 'p1')!;
  assert.equal(info.state, 'closed');
  assert.equal(info.exitCode, 3);
  assert.ok(info.pid > 0 && info.exitedAtMs! >= info.startedAtMs);
  assert.equal(info.outputBytes, 'out1\nerr1\nout2\n'.length, 'every output byte is counted');
  assert.equal(h.table.tail('p1', 9)?.toString(), 'rr1\nout2\n');
  assert.equal(h.table.tail('nope', 9), undefined);
});

test('start errors: argv, duplicates, spawn failures', async () => {
  const h = new Harness();
  assert.deepEqual(rpcError(() => h.start('e', { argv: [] })), { code: -32602, message: 'argv must not be empty' });
  h.start('dup', { argv: ['/bin/sleep', '5'] });
  assert.deepEqual(rpcError(() => h.start('dup', { argv: ['/bin/true'] })), { code: -32600, message: 'process dup already exists' });
  // argv is validated before the duplicate check, as on the reference.
  assert.deepEqual(rpcError(() => h.start('dup', { argv: [] })), { code: -32602, message: 'argv must not be empty' });
  h.table.terminate('dup');
  await h.waitFor('process/closed', 'dup');
  // Closed but retained: still taken.
  assert.deepEqual(rpcError(() => h.start('dup', { argv: ['/bin/true'] })), { code: -32600, message: 'process dup already exists' });

  assert.deepEqual(rpcError(() => h.start('f', { argv: ['/nonexistent'] })), { code: -32603, message: 'No such file or directory (os error 2)' });
  assert.deepEqual(rpcError(() => h.start('f', { argv: [join(dir, 'noshebang')] })), { code: -32603, message: 'Exec format error (os error 8)' });
  assert.deepEqual(rpcError(() => h.start('f', { argv: ['/bin/true'], cwd: join(dir, 'missing') })), { code: -32603, message: 'No such file or directory (os error 2)' });
  assert.deepEqual(rpcError(() => h.start('f', { argv: ['nope'], tty: true })), {
    code: -32603,
    message: 'Unable to spawn nope because:\nNo viable candidates found in PATH "/usr/bin:/bin"',
  });
  // A failed start leaves nothing behind and sends nothing.
  const err = await rejection(h.table.read({ processId: 'f', afterSeq: 0, maxBytes: null, waitMs: 0 }));
  assert.ok(err instanceof RpcError);
  assert.equal(err.code, -32600);
  assert.equal(err.message, 'unknown process id f');
  assert.equal(h.of('f').length, 0);
  assert.equal(h.table.write('f', Buffer.from('x'), 'w'), 'unknownProcess');
});

test('read pagination follows the §6.3 transcript exactly', async () => {
  const h = new Harness();
  h.start('r2', { argv: ['/bin/sh', '-c', 'for i in 1 2 3 4 5 6; do echo line$i; sleep 0.03; done'] });
  await h.waitFor('process/closed', 'r2');
  assert.equal(h.of('r2').filter((n) => n.method === 'process/output').length, 6, 'six separate chunks');
  const read = (afterSeq: number, maxBytes: number | null) => h.table.read({ processId: 'r2', afterSeq, maxBytes, waitMs: 0 });
  const b64 = (n: number) => Buffer.from(`line${n}\n`).toString('base64');
  const tail = { exited: true, exitCode: 0, closed: true, failure: null, sandboxDenied: false };
  assert.deepEqual(await read(0, 12), {
    chunks: [
      { seq: 1, stream: 'stdout', chunk: 'bGluZTEK' },
      { seq: 2, stream: 'stdout', chunk: 'bGluZTIK' },
    ],
    nextSeq: 3,
    ...tail,
  });
  assert.deepEqual(await read(2, 12), {
    chunks: [
      { seq: 3, stream: 'stdout', chunk: 'bGluZTMK' },
      { seq: 4, stream: 'stdout', chunk: 'bGluZTQK' },
    ],
    nextSeq: 5,
    ...tail,
  });
  const all = await read(0, null);
  assert.deepEqual(
    all.chunks.map((c) => [c.seq, c.chunk]),
    [1, 2, 3, 4, 5, 6].map((n) => [n, b64(n)]),
  );
  assert.equal(all.nextSeq, 9);
  assert.deepEqual(await read(6, 12), { chunks: [], nextSeq: 9, ...tail });
  assert.deepEqual((await read(0, 1)).chunks.map((c) => c.seq), [1]);
  assert.equal((await read(0, 0)).nextSeq, 2);
  assert.equal((await read(100, null)).nextSeq, 9);
});

test('retains only the last 1 MiB; notifications carry everything', async () => {
  const h = new Harness();
  const size = 3_000_000;
  h.start('big', { argv: ['/bin/sh', '-c', `head -c ${size} /dev/urandom`] });
  await h.waitFor('process/closed', 'big');
  const all = h.output('big');
  assert.equal(all.length, size);
  const r = await h.table.read({ processId: 'big', afterSeq: 0, maxBytes: null, waitMs: 0 });
  const retained = Buffer.concat(r.chunks.map((c) => Buffer.from(c.chunk, 'base64')));
  assert.ok(retained.length <= 1_048_576 && retained.length > 1_048_576 - 65_536, `retained ${retained.length}`);
  assert.ok(r.chunks[0]!.seq > 1);
  assert.deepEqual(retained, all.subarray(all.length - retained.length));
  const outputs = h.of('big').filter((n) => n.method === 'process/output');
  assert.equal(r.chunks.at(-1)!.seq, outputs.at(-1)!.params.seq);
});

test('long-poll wakes on output, on exit, on close, at the deadline, and on abort', async () => {
  const h = new Harness();
  const read = (processId: string, afterSeq: number, waitMs: number, signal?: AbortSignal) =>
    h.table.read({ processId, afterSeq, maxBytes: null, waitMs }, signal);

  h.start('out', { argv: ['/bin/sh', '-c', 'sleep 0.3; echo late; sleep 5'] });
  let t0 = Date.now();
  const onOutput = await read('out', 0, 5000);
  assert.ok(Date.now() - t0 >= 250 && Date.now() - t0 < 2000, `${Date.now() - t0} ms`);
  assert.deepEqual(onOutput.chunks, [{ seq: 1, stream: 'stdout', chunk: 'bGF0ZQo=' }]);
  assert.equal(onOutput.exited, false);
  assert.equal(onOutput.exitCode, null);

  h.start('exit', { argv: ['/bin/sh', '-c', 'sleep 0.3; exit 4'] });
  t0 = Date.now();
  const onExit = await read('exit', 0, 5000);
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual([onExit.chunks, onExit.exited, onExit.exitCode], [[], true, 4]);

  h.start('sleep', { argv: ['/bin/sleep', '5'] });
  t0 = Date.now();
  const onDeadline = await read('sleep', 0, 200);
  assert.ok(Date.now() - t0 >= 195, `${Date.now() - t0} ms`);
  assert.deepEqual([onDeadline.chunks, onDeadline.exited, onDeadline.nextSeq], [[], false, 1]);

  const controller = new AbortController();
  const pending = read('sleep', 0, 10_000, controller.signal);
  setTimeout(() => controller.abort(new Error('connection gone')), 50);
  t0 = Date.now();
  const reason = await rejection(pending);
  assert.equal((reason as Error).message, 'connection gone');
  assert.ok(Date.now() - t0 < 1000);
  assert.equal((await rejection(read('sleep', 0, 10_000, AbortSignal.abort(new Error('early'))))) instanceof Error, true);

  // Closed processes answer at once, whatever afterSeq says.
  await h.waitFor('process/closed', 'exit');
  t0 = Date.now();
  assert.equal((await read('exit', 100, 5000)).closed, true);
  assert.ok(Date.now() - t0 < 100);

  // Exited but not closed (a grandchild holds stdout): waiting after the exit event waits for
  // more; waiting from before it returns at once.
  h.start('held', { argv: ['/bin/sh', '-c', '(sleep 0.6; echo late) & exit 0'] });
  const exited = await h.waitFor('process/exited', 'held');
  t0 = Date.now();
  assert.equal((await read('held', exited.params.seq - 1, 5000)).exited, true);
  assert.ok(Date.now() - t0 < 100);
  const late = await read('held', exited.params.seq, 5000);
  assert.ok(Date.now() - t0 >= 300);
  assert.equal(Buffer.from(late.chunks[0]!.chunk, 'base64').toString(), 'late\n');
  assert.equal((await read('held', late.chunks[0]!.seq, 5000)).closed, true);
});

test('write: statuses, idempotency, tty and pipeStdin', async () => {
  const h = new Harness();
  h.start('tty', { argv: ['/bin/cat'], tty: true });
  assert.equal(h.table.write('tty', Buffer.from('one\n'), 'w1'), 'accepted');
  await eventually(() => h.output('tty').toString() === 'one\r\none\r\n');
  assert.equal(h.table.write('tty', Buffer.from('one\n'), 'w1'), 'accepted'); // remembered, not written
  assert.equal(h.table.write('tty', Buffer.from('two\n'), 'w2'), 'accepted');
  await eventually(() => h.output('tty').toString().endsWith('two\r\ntwo\r\n'));
  assert.equal(h.output('tty').toString(), 'one\r\none\r\ntwo\r\ntwo\r\n');
  assert.equal(h.table.write('tty', Buffer.alloc(0), 'w3'), 'accepted');

  h.start('pipe', { argv: ['/bin/cat'], pipeStdin: true });
  for (let i = 0; i <= 4096; i++) assert.equal(h.table.write('pipe', Buffer.from('x'), `id${i}`), 'accepted');
  assert.equal(h.table.write('pipe', Buffer.from('y'), 'id4096'), 'accepted'); // still remembered: dropped
  assert.equal(h.table.write('pipe', Buffer.from('z'), 'id0'), 'accepted'); // forgotten (last 4096 only): written
  assert.ok(await eventually(() => h.output('pipe').length === 4098), `${h.output('pipe').length} bytes`);
  assert.equal(h.output('pipe').toString(), `${'x'.repeat(4097)}z`);

  h.start('nostdin', { argv: ['/bin/sleep', '5'] });
  assert.equal(h.table.write('nostdin', Buffer.from('x'), 'w1'), 'stdinClosed');
  assert.equal(h.table.write('nobody', Buffer.from('x'), 'w1'), 'unknownProcess');

  // Exited but retained: accepted (and not written anywhere).
  h.table.terminate('tty');
  h.table.terminate('pipe');
  await h.waitFor('process/closed', 'tty');
  await h.waitFor('process/closed', 'pipe');
  assert.equal(h.table.write('tty', Buffer.from('late\n'), 'w9'), 'accepted');
  assert.equal(h.table.write('pipe', Buffer.from('late\n'), 'w9'), 'accepted');
});

test('signal interrupts with SIGINT (exit 130); unknown and exited are no-ops', async () => {
  const h = new Harness();
  h.start('s', { argv: ['/bin/sleep', '30'] });
  await sleep(30);
  h.table.signal('s');
  const exited = await h.waitFor('process/exited', 's');
  assert.equal(exited.params.exitCode, 130);
  await h.waitFor('process/closed', 's');
  h.table.signal('s');
  h.table.signal('nobody');

  h.start('t', { tty: true, argv: ['/bin/sh', '-c', 'trap "echo got-int; exit 9" INT; echo ready; while :; do sleep 0.05; done'] });
  assert.ok(await eventually(() => h.output('t').toString().includes('ready')));
  h.table.signal('t');
  await h.waitFor('process/closed', 't');
  assert.equal(h.of('t').find((n) => n.method === 'process/exited')!.params.exitCode, 9);
  assert.match(h.output('t').toString(), /got-int/);
});

test('terminate kills the process group; running says whether it was running', async () => {
  const h = new Harness();
  h.start('k', { argv: ['/bin/sh', '-c', 'trap "" TERM; sleep 30 & echo $!; wait'] });
  assert.ok(await eventually(() => h.output('k').toString().endsWith('\n')));
  const grandchild = Number(h.output('k').toString().trim());
  assert.ok(isAlive(grandchild));
  const t0 = Date.now();
  assert.deepEqual(h.table.terminate('k'), { running: true });
  assert.equal((await h.waitFor('process/exited', 'k')).params.exitCode, 137);
  await h.waitFor('process/closed', 'k');
  assert.ok(Date.now() - t0 < 1000);
  assert.ok(await eventually(() => !isAlive(grandchild)), `grandchild ${grandchild} survived`);
  assert.deepEqual(h.table.terminate('k'), { running: false });
  assert.deepEqual(h.table.terminate('nobody'), { running: false });

  // Exited but not closed: not running, and (as on the reference) nothing is killed.
  h.start('held', { argv: ['/bin/sh', '-c', 'sleep 0.5 & echo $!; exit 0'] });
  await h.waitFor('process/exited', 'held');
  const holder = Number(h.output('held').toString().trim());
  assert.deepEqual(h.table.terminate('held'), { running: false });
  assert.ok(isAlive(holder));
  await h.waitFor('process/closed', 'held');

  h.start('ttyk', { tty: true, argv: ['/bin/sleep', '30'] });
  assert.deepEqual(h.table.terminate('ttyk'), { running: true });
  assert.equal((await h.waitFor('process/exited', 'ttyk')).params.exitCode, 1);
});

test('retention: removed after retentionMs, then the id is free and seq restarts', async () => {
  const h = new Harness(150);
  h.start('r', { argv: ['/bin/echo', 'first'] });
  await h.waitFor('process/closed', 'r');
  const closedAt = Date.now();
  assert.equal((await h.table.read({ processId: 'r', afterSeq: 0, maxBytes: null, waitMs: 0 })).closed, true);
  assert.equal(h.table.write('r', Buffer.from('x'), 'w'), 'stdinClosed');
  assert.ok(await eventually(() => h.table.list().length === 0, 2000));
  assert.ok(Date.now() - closedAt >= 140);
  assert.equal(h.changes.at(-1)![0], 'removed');
  const err = await rejection(h.table.read({ processId: 'r', afterSeq: 0, maxBytes: null, waitMs: 0 }));
  assert.equal((err as RpcError).message, 'unknown process id r');
  assert.equal(h.table.write('r', Buffer.from('x'), 'w'), 'unknownProcess');
  assert.deepEqual(h.table.terminate('r'), { running: false });

  const before = h.notes.length;
  h.start('r', { argv: ['/bin/echo', 'second'] });
  await eventually(() => h.notes.length - before === 3);
  assert.deepEqual(
    h.notes.slice(before).map((n) => [n.method, n.params.seq]),
    [
      ['process/output', 1],
      ['process/exited', 2],
      ['process/closed', 3],
    ],
  );
});

test('terminateAll kills every group and waits for every exit', async () => {
  const h = new Harness();
  h.start('a', { argv: ['/bin/sh', '-c', 'sleep 30 & echo $!; wait'] });
  h.start('b', { tty: true, argv: ['/bin/sh', '-c', '(trap "" HUP; sleep 30) & echo $!; wait'] });
  h.start('c', { argv: ['/bin/cat'], pipeStdin: true });
  h.start('d', { argv: ['/bin/true'] });
  await h.waitFor('process/closed', 'd');
  assert.ok(await eventually(() => h.output('a').toString().endsWith('\n') && h.output('b').toString().endsWith('\n')));
  const pids = [
    Number(h.output('a').toString().trim()),
    Number(h.output('b').toString().trim()),
    ...h.table
      .list()
      .filter((i) => i.state === 'running')
      .map((i) => i.pid),
  ];
  assert.equal(pids.length, 5);
  assert.ok(pids.every(isAlive));
  await h.table.terminateAll();
  assert.ok(h.table.list().every((i) => i.state !== 'running'));
  assert.ok(await eventually(() => pids.every((pid) => !isAlive(pid))), 'something survived');
  await h.table.terminateAll(); // idempotent
});

test('pty through the table: one pty stream, 24x80', async () => {
  const h = new Harness();
  h.start('t', { tty: true, argv: ['/bin/sh', '-c', 'stty size; echo err >&2'] });
  await h.waitFor('process/closed', 't');
  assert.deepEqual([...new Set(h.of('t').filter((n) => n.method === 'process/output').map((n) => n.params.stream))], ['pty']);
  assert.equal(h.output('t').toString(), '24 80\r\nerr\r\n');
});

test('env policy is applied', async () => {
  const h = new Harness();
  h.start('e', {
    argv: ['/usr/bin/env'],
    env: { B: '2' },
    envPolicy: { inherit: 'none', ignoreDefaultExcludes: false, exclude: [], set: { A: '1', CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE: '1' }, includeOnly: [] },
  });
  await h.waitFor('process/closed', 'e');
  assert.equal(h.output('e').toString(), 'A=1\nB=2\n');
});

test('a flood of output neither crashes nor blocks the event loop', async () => {
  const h = new Harness();
  const size = 64 * 1024 * 1024;
  let maxGap = 0;
  let last = Date.now();
  const ticker = setInterval(() => {
    maxGap = Math.max(maxGap, Date.now() - last);
    last = Date.now();
  }, 5);
  const t0 = Date.now();
  h.start('flood', { argv: ['/bin/sh', '-c', `head -c ${size} /dev/zero; head -c ${size} /dev/zero >&2`] });
  await h.waitFor('process/closed', 'flood', 60_000);
  const ms = Date.now() - t0;
  clearInterval(ticker);
  let total = 0;
  for (const n of h.of('flood')) if (n.method === 'process/output') total += (n.params.chunk.length * 3) / 4 - (n.params.chunk.endsWith('==') ? 2 : n.params.chunk.endsWith('=') ? 1 : 0);
  assert.equal(total, 2 * size);
  assert.ok(maxGap < 250, `event loop blocked for ${maxGap} ms`);
  const r = await h.table.read({ processId: 'flood', afterSeq: 0, maxBytes: null, waitMs: 0 });
  assert.ok(r.chunks.reduce((n, c) => n + Buffer.from(c.chunk, 'base64').length, 0) <= 1_048_576);
  console.log(`flood: ${((2 * size) / 1048576 / (ms / 1000)).toFixed(0)} MiB/s through notifications, max loop gap ${maxGap} ms`);
});

test('spawn errors and a transcript match the reference binary', { skip: !referenceAvailable() }, async () => {
  const server = await startServer('reference');
  const client = await RpcClient.connect(server.url);
  const h = new Harness();
  try {
    await client.handshake('process-table-test');
    const cases: Array<Partial<StartSpec>> = [
      { argv: ['/nonexistent'] },
      { argv: ['nonexistent-cmd'] },
      { argv: [join(dir, 'noshebang')] },
      { argv: ['noshebang'], env: { PATH: dir } },
      { argv: ['/tmp'] },
      { argv: ['/bin/true'], cwd: join(dir, 'missing') },
      { argv: ['/bin/true'], cwd: join(dir, 'noshebang') },
      { argv: ['ldconfig'], env: {} },
      { argv: ['/bin/echo', 'a\0b'] },
      { argv: ['/bin/echo'], env: { A: '\0' } },
      { argv: [''] },
      { argv: [''], tty: true },
      { argv: ['nope'], tty: true, env: { PATH: `/a"b\\c:${dir}` } },
      { argv: ['sh'], tty: true, env: {} },
      { argv: ['./missing'], tty: true, cwd: dir },
      { argv: ['.'], tty: true, cwd: dir },
      { argv: [join(dir, 'noshebang')], tty: true },
      { argv: ['/nonexistent'], tty: true },
    ];
    let n = 0;
    for (const c of cases) {
      const spec = { processId: `x${n++}`, argv: [], cwd: '/', env: { PATH: '/usr/bin:/bin' }, tty: false, arg0: null, ...c };
      const reply = await client.request('process/start', { ...spec, cwd: `file://${spec.cwd}` });
      const ours = rpcError(() => h.start(spec.processId, spec));
      assert.deepEqual(ours, { code: reply.error?.code, message: reply.error?.message }, JSON.stringify(c));
    }

    const script = 'echo out1; sleep 0.05; echo err1 >&2; sleep 0.05; printf "no newline"; sleep 0.05; exit 3';
    await client.request('process/start', { processId: 't', argv: ['/bin/sh', '-c', script], cwd: 'file:///', env: {}, tty: false, arg0: null });
    await client.waitForNotification('process/closed', (p) => p.processId === 't');
    h.start('t', { argv: ['/bin/sh', '-c', script], env: {} });
    await h.waitFor('process/closed', 't');
    const theirs = client.notifications().filter((m: any) => m.params.processId === 't').map((m) => ({ method: m.method, params: m.params }));
    assert.deepEqual(h.of('t'), theirs);
    // Environment contents and order (sorted by name), with pipes and under a PTY.
    for (const tty of [false, true]) {
      const id = `env-${tty}`;
      const env = { Z: '1', A: '1', M: '1', a: '1', _: '1', é: 'e', PATH: '/usr/bin:/bin' };
      await client.request('process/start', { processId: id, argv: ['/usr/bin/env'], cwd: 'file:///', env, tty, arg0: null });
      await client.waitForNotification('process/closed', (p) => p.processId === id);
      const theirText = Buffer.concat(
        client
          .notifications('process/output')
          .filter((m: any) => m.params.processId === id)
          .map((m: any) => Buffer.from(m.params.chunk, 'base64')),
      ).toString();
      h.start(id, { argv: ['/usr/bin/env'], env, tty });
      await h.waitFor('process/closed', id);
      assert.equal(h.output(id).toString(), theirText);
    }

    const read = { processId: 't', afterSeq: 1, maxBytes: 4 };
    const theirRead = await client.call('process/read', read);
    assert.deepEqual(await h.table.read({ ...read, waitMs: 0 }), theirRead);
  } finally {
    client.close();
    await server.stop();
  }
});
