import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RpcError } from '../rpc/errors.ts';
import { SessionRegistry, type Attachment } from './session-registry.ts';
import { isAlive } from '../process/test-support.ts';

function attachment(name: string, inbox: Array<[string, unknown]> = []): Attachment & { inbox: Array<[string, unknown]> } {
  return { peer: name, clientName: name, inbox, deliver: (m, p) => inbox.push([m, p]), congested: () => false };
}


function rpcError(fn: () => unknown): RpcError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RpcError);
    return err;
  }
  assert.fail('expected an RpcError');
}

test('sessions get random UUIDs and are listed attached', () => {
  const registry = new SessionRegistry();
  const a = registry.create(attachment('a'));
  const b = registry.create(attachment('b'));
  assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a.id, b.id);
  assert.deepEqual(
    registry.list().map((s) => [s.clientName, s.state, s.expiresAtMs]),
    [
      ['a', 'attached', null],
      ['b', 'attached', null],
    ],
  );
});

test('resume: -32010 while attached, unknown ids, then success after detach', () => {
  const registry = new SessionRegistry();
  const first = attachment('first');
  const session = registry.create(first);
  const collision = rpcError(() => registry.resume(session.id, attachment('second')));
  assert.equal(collision.code, -32010);
  assert.equal(collision.message, `session ${session.id} is already attached to another connection`);
  assert.equal(session.attachedTo, first, 'the old connection keeps the session');

  const unknown = rpcError(() => registry.resume('nope', attachment('x')));
  assert.deepEqual([unknown.code, unknown.message], [-32600, 'unknown session id nope']);
  const empty = rpcError(() => registry.resume('', attachment('x')));
  assert.equal(empty.message, 'unknown session id ');

  registry.detach(session, first);
  const detached = registry.list()[0]!;
  assert.equal(detached.state, 'detached');
  assert.ok(detached.expiresAtMs! > Date.now());
  const third = attachment('third');
  assert.equal(registry.resume(session.id, third), session);
  assert.equal(session.attachedTo, third);
  assert.equal(registry.list()[0]!.expiresAtMs, null);
});

test('detach by a stale attachment does nothing', () => {
  const registry = new SessionRegistry();
  const a = attachment('a');
  const session = registry.create(a);
  registry.detach(session, attachment('someone else'));
  assert.equal(session.attachedTo, a);
});

test('notifications follow the newest attachment and are dropped while detached', async () => {
  const registry = new SessionRegistry();
  const first = attachment('first');
  const session = registry.create(first);
  session.processes.start({ processId: 'p', argv: ['/bin/sh', '-c', 'read x; echo "$x"'], cwd: '/', env: {}, envPolicy: null, tty: false, pipeStdin: true, arg0: null });
  registry.detach(session, first);
  const second = attachment('second');
  registry.resume(session.id, second);
  session.processes.write('p', Buffer.from('hello\n'), 'w1');
  const read = await session.processes.read({ processId: 'p', afterSeq: 0, maxBytes: null, waitMs: 5000 });
  assert.equal(Buffer.from(read.chunks[0]!.chunk, 'base64').toString(), 'hello\n');
  await session.processes.read({ processId: 'p', afterSeq: 0, maxBytes: null, waitMs: 0 });
  for (let i = 0; i < 100 && !second.inbox.some(([m]) => m === 'process/closed'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(first.inbox, []);
  assert.deepEqual(
    second.inbox.map(([m]) => m),
    ['process/output', 'process/exited', 'process/closed'],
  );
});

test('the TTL kills a detached session and its processes; resume then fails', async () => {
  const registry = new SessionRegistry({ detachedTtlMs: 150 });
  const a = attachment('a');
  const session = registry.create(a);
  session.processes.start({ processId: 'sleeper', argv: ['sleep', '30'], cwd: '/', env: { PATH: '/usr/bin:/bin' }, envPolicy: null, tty: false, pipeStdin: false, arg0: null });
  const pid = session.processes.list()[0]!.pid;
  assert.ok(isAlive(pid));
  registry.detach(session, a);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(isAlive(pid), false, 'the process died with the session');
  assert.deepEqual(registry.list(), []);
  const gone = rpcError(() => registry.resume(session.id, attachment('late')));
  assert.equal(gone.message, `unknown session id ${session.id}`);
});

test('expiry is authoritative at resume time even before the timer fires', () => {
  const registry = new SessionRegistry({ detachedTtlMs: 50 });
  const a = attachment('a');
  const session = registry.create(a);
  registry.detach(session, a);
  session.detachedAtMs = Date.now() - 60; // as if the timer were late
  const err = rpcError(() => registry.resume(session.id, attachment('b')));
  assert.equal(err.message, `unknown session id ${session.id}`);
});

test('shutdown kills every session process and waits for them', async () => {
  const registry = new SessionRegistry();
  const pids: number[] = [];
  for (const name of ['a', 'b']) {
    const s = registry.create(attachment(name));
    s.processes.start({ processId: 'x', argv: ['sleep', '30'], cwd: '/', env: { PATH: '/usr/bin:/bin' }, envPolicy: null, tty: false, pipeStdin: false, arg0: null });
    pids.push(s.processes.list()[0]!.pid);
  }
  await registry.shutdown();
  assert.deepEqual(pids.map(isAlive), [false, false]);
  assert.deepEqual(registry.list(), []);
});

test('a session shows its attachment\'s carrier while attached, null while detached', () => {
  const registry = new SessionRegistry();
  const local = registry.create(attachment('127.0.0.1:5000'));
  const relayAttachment = { ...attachment('relay st-1'), carrier: { kind: 'relay' as const, streamId: 'st-1' } };
  const relay = registry.create(relayAttachment);
  const byId = () => new Map(registry.list().map((s) => [s.sessionId, s.carrier]));
  assert.deepEqual(byId().get(local.id), { kind: 'local', peer: '127.0.0.1:5000' }, 'no carrier given: a local peer');
  assert.deepEqual(byId().get(relay.id), { kind: 'relay', streamId: 'st-1' });
  registry.detach(relay, relayAttachment);
  assert.equal(byId().get(relay.id), null);
  const stdio = { ...attachment('stdio'), carrier: { kind: 'stdio' as const } };
  registry.resume(relay.id, stdio);
  assert.deepEqual(byId().get(relay.id), { kind: 'stdio' });
});
