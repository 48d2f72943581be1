import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecServer } from '../exec-server.ts';
import { silentLogger } from '../log.ts';
import { MemoryPipe } from '../../testkit/memory-pipe.ts';

const tmp = 'file:///tmp';

function server(concurrency = 1) {
  return new ExecServer({ concurrency, log: silentLogger, detachedTtlMs: 60_000, processRetentionMs: 60_000 });
}

function connect(s: ExecServer): MemoryPipe {
  const pipe = new MemoryPipe();
  s.serve(pipe);
  return pipe;
}

const tick = () => new Promise((r) => setTimeout(r, 20));

test('gating: initialize, then resumed-by-another, then initialized, with family names', async () => {
  const s = server();
  const pipe = connect(s);
  const families: Array<[string, unknown, string]> = [
    ['process/read', { processId: 'x' }, 'exec'],
    ['environment/info', undefined, 'environment info'],
    ['environment/status', {}, 'environment status'],
  ];
  for (const [method, params, family] of families) {
    const reply = await pipe.request(method, method, params);
    assert.deepEqual(reply.error, { code: -32600, message: `client must call initialize before using ${family} methods` });
  }
  await pipe.request(1, 'initialize', { clientName: 'c' });
  const early = await pipe.request(2, 'process/terminate', { processId: 'x' });
  assert.equal(early.error.message, 'client must send initialized before using exec methods');
  pipe.deliver({ method: 'initialized' });
  pipe.deliver({ method: 'initialized', params: 5 }); // repeating it is harmless
  assert.deepEqual((await pipe.request(3, 'environment/status')).result, { status: 'ready' });
  await s.shutdown();
});

test('params are decoded before the lifecycle check, unknown methods answer -32601 in any state', async () => {
  const s = server();
  const pipe = connect(s);
  assert.deepEqual((await pipe.request(1, 'process/read')).error, { code: -32602, message: 'invalid type: null, expected struct ReadParams' });
  assert.deepEqual((await pipe.request(2, 'process/resize', {})).error, {
    code: -32601,
    message: 'exec-server stub does not implement `process/resize` yet',
  });
  assert.deepEqual((await pipe.request(3, 'initialized')).error.code, -32601);
  await s.shutdown();
});

test('initialize may only succeed once; a failed one may be retried', async () => {
  const s = server();
  const pipe = connect(s);
  assert.equal((await pipe.request(1, 'initialize', { clientName: 'c', resumeSessionId: 'nope' })).error.message, 'unknown session id nope');
  assert.equal((await pipe.request(2, 'initialize', { clientName: 5 })).error.message, 'invalid type: number, expected a string');
  const ok = await pipe.request(3, 'initialize', { clientName: 'c' });
  assert.match(ok.result.sessionId, /^[0-9a-f-]{36}$/);
  assert.equal(ok.result.environmentInfo.executorVersion, '0.169.0');
  assert.deepEqual((await pipe.request(4, 'initialize', { clientName: 'c' })).error, {
    code: -32600,
    message: 'initialize may only be sent once per connection',
  });
  await s.shutdown();
});

test('protocol violations drop the connection without a reply', async () => {
  for (const violation of [{ method: 'initialized' }, { method: 'process/read', params: {} }, { method: 'bogus' }]) {
    const s = server();
    const pipe = connect(s);
    pipe.deliver(violation);
    assert.equal(pipe.closed, true, JSON.stringify(violation));
    assert.deepEqual(pipe.sent, []);
    await s.shutdown();
  }
  const s = server();
  const pipe = connect(s);
  await pipe.handshake();
  pipe.deliver({ id: 99, result: {} }); // nobody asked
  await tick();
  assert.equal(pipe.closed, true);
  await s.shutdown();
});

test('malformed messages get id -1 and the connection stays open', async () => {
  const s = server();
  const pipe = connect(s);
  pipe.deliver('[{"id":1,"method":"x"}]');
  pipe.deliver('{"id":1,"method":"environment/status"}\n{"id":2,"method":"environment/status"}');
  pipe.deliver('{}x');
  await tick();
  const prefix = 'failed to parse websocket JSON-RPC message from exec-server websocket 127.0.0.1:1: ';
  assert.deepEqual(
    pipe.sent.map((m) => [m.id, m.error.code, m.error.message]),
    [
      [-1, -32600, prefix + 'expected a JSON-RPC object'],
      [-1, -32600, prefix + 'trailing characters at line 2 column 1'],
      [-1, -32600, prefix + 'missing field `error`'],
    ],
  );
  assert.equal(pipe.closed, false);
  assert.equal((await pipe.request(5, 'environment/status')).error.message, 'client must call initialize before using environment status methods');
  await s.shutdown();
});

test('inline mode answers strictly in arrival order; lanes let control methods pass', async () => {
  for (const [concurrency, expected] of [
    [1, ['r1', 'r2', 'meta', 'status']],
    // meta waits for an ordinary slot (freed by r1); status takes the control lane at once
    [2, ['status', 'r1', 'meta', 'r2']],
  ] as const) {
    const s = server(concurrency);
    const pipe = connect(s);
    await pipe.handshake();
    await pipe.request('start', 'process/start', { processId: 'p', argv: ['sleep', '5'], cwd: tmp, env: { PATH: '/usr/bin:/bin' }, tty: false });
    const order: string[] = [];
    const track = (id: string) => pipe.next((m) => m.id === id).then(() => order.push(id));
    const waits = ['r1', 'r2', 'meta', 'status'].map(track);
    pipe.deliver({ id: 'r1', method: 'process/read', params: { processId: 'p', afterSeq: 0, waitMs: 300 } });
    pipe.deliver({ id: 'r2', method: 'process/read', params: { processId: 'p', afterSeq: 0, waitMs: 700 } });
    pipe.deliver({ id: 'meta', method: 'process/read', params: { processId: 'p', afterSeq: 0 } });
    pipe.deliver({ id: 'status', method: 'environment/status' });
    await Promise.all(waits);
    assert.deepEqual(order, expected, `concurrency ${concurrency}`);
    await s.shutdown();
  }
});

test('a disconnect detaches: processes keep running, output is buffered, resume reads it', async () => {
  const s = server();
  const first = connect(s);
  const sessionId = await first.handshake();
  await first.request(1, 'process/start', {
    processId: 'ticker',
    argv: ['/bin/sh', '-c', 'echo one; sleep 0.3; echo two'],
    cwd: tmp,
    env: { PATH: '/usr/bin:/bin' },
    tty: false,
  });
  await first.next((m) => m.method === 'process/output');
  const second = connect(s);
  const clash = await second.request(1, 'initialize', { clientName: 'b', resumeSessionId: sessionId });
  assert.deepEqual(clash.error, { code: -32010, message: `session ${sessionId} is already attached to another connection` });
  assert.deepEqual((await first.request(2, 'environment/status')).result, { status: 'ready' }, 'the old connection still works');

  first.close();
  assert.equal(s.sessions.list()[0]!.state, 'detached');
  await new Promise((r) => setTimeout(r, 500));
  const third = connect(s);
  const resumed = await third.request(1, 'initialize', { clientName: 'c', resumeSessionId: sessionId });
  assert.equal(resumed.result.sessionId, sessionId);
  assert.equal((await third.request(2, 'process/read', { processId: 'ticker' })).error.message, 'client must send initialized before using exec methods');
  third.deliver({ method: 'initialized' });
  const read = await third.request(3, 'process/read', { processId: 'ticker', afterSeq: 0, waitMs: 2000 });
  const text = read.result.chunks.map((c: any) => Buffer.from(c.chunk, 'base64').toString()).join('');
  assert.equal(text, 'one\ntwo\n');
  assert.equal(read.result.exited, true);
  assert.equal(third.sent.filter((m) => m.method === 'process/output').length, 0, 'nothing missed is replayed');
  await s.shutdown();
});

test('a long-poll abandoned by a vanished client ends without a reply and leaks nothing', async () => {
  const s = server();
  const pipe = connect(s);
  await pipe.handshake();
  await pipe.request(1, 'process/start', { processId: 'p', argv: ['sleep', '30'], cwd: tmp, env: { PATH: '/usr/bin:/bin' }, tty: false });
  pipe.deliver({ id: 2, method: 'process/read', params: { processId: 'p', afterSeq: 0, waitMs: 60_000 } });
  await tick();
  const before = pipe.sent.length;
  pipe.close();
  await tick();
  assert.equal(pipe.sent.length, before, 'no response after the connection is gone');
  const session = s.sessions.all()[0]!;
  const pid = session.processes.list()[0]!.pid;
  await s.shutdown();
  assert.throws(() => process.kill(pid, 0), 'the process was killed at shutdown');
});

test('processes are scoped to their session', async () => {
  const s = server();
  const a = connect(s);
  const b = connect(s);
  await a.handshake('a');
  await b.handshake('b');
  await a.request(1, 'process/start', { processId: 'same', argv: ['true'], cwd: tmp, env: { PATH: '/usr/bin:/bin' }, tty: false });
  assert.equal((await b.request(1, 'process/read', { processId: 'same' })).error.message, 'unknown process id same');
  assert.deepEqual((await b.request(2, 'process/start', { processId: 'same', argv: ['true'], cwd: tmp, env: { PATH: '/usr/bin:/bin' }, tty: false })).result, {
    processId: 'same',
    sandboxType: 'none',
  });
  await s.shutdown();
});

test('sandbox: non-restricting policies run, restricting ones are refused clearly', async () => {
  const s = server();
  const pipe = connect(s);
  await pipe.handshake();
  const base = { argv: ['true'], cwd: tmp, env: {}, tty: false };
  const ok = [
    { permissions: { type: 'disabled' }, windowsSandboxLevel: 'disabled' },
    { permissions: { type: 'external', network: 'enabled' }, windowsSandboxLevel: 'disabled' },
    { permissions: { type: 'managed', file_system: { type: 'unrestricted' }, network: 'enabled' }, windowsSandboxLevel: 'disabled' },
  ];
  for (const [i, sandbox] of ok.entries()) {
    assert.deepEqual((await pipe.request(`ok${i}`, 'process/start', { ...base, processId: `ok${i}`, sandbox })).result, { processId: `ok${i}`, sandboxType: 'none' });
  }
  const refused = await pipe.request('no', 'process/start', {
    ...base,
    processId: 'no',
    sandbox: {
      permissions: { type: 'managed', file_system: { type: 'restricted', entries: [{ path: { type: 'path', path: 'file:///tmp' }, access: 'read' }] }, network: 'restricted' },
      windowsSandboxLevel: 'disabled',
    },
  });
  assert.deepEqual(refused.error, {
    code: -32600,
    message: 'exec-desk cannot enforce the requested sandbox (restricted file system access and restricted network access); refusing to start the process without it',
  });
  assert.equal((await pipe.request('gone', 'process/read', { processId: 'no' })).error.message, 'unknown process id no', 'nothing was started');
  // serde texts for malformed sandboxes match the reference's
  const bad = await pipe.request('bad', 'process/start', { ...base, processId: 'b', sandbox: { permissions: { type: 'bogus' }, windowsSandboxLevel: 'disabled' } });
  assert.equal(bad.error.message, 'unknown variant `bogus`, expected one of `managed`, `disabled`, `external`');
  const bad2 = await pipe.request('bad2', 'process/start', { ...base, processId: 'b', sandbox: { permissions: 5, windowsSandboxLevel: 'disabled' } });
  assert.equal(bad2.error.message, 'invalid type: integer `5`, expected internally tagged enum ExecPermissionProfile');
  await s.shutdown();
});

test('a server that is shutting down drops new connections without serving them', async () => {
  const s = server();
  await s.shutdown();
  const pipe = new MemoryPipe();
  assert.equal(s.serve(pipe), null);
  assert.equal(pipe.closed, true);
  assert.equal(s.connectionCount, 0);
});
