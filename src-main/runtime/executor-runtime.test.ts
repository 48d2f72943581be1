import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { ListenerState, ProcessView, RuntimeEvent, SessionView } from '../control/contract.ts';
import { ControlError } from '../control/control-error.ts';
import { isAlive } from '../core/process/test-support.ts';
import { RpcClient } from '../testkit/rpc-client.ts';
import { MemoryPipe } from '../testkit/memory-pipe.ts';
import { ExecutorRuntime, type ExecutorRuntimeOptions } from './executor-runtime.ts';
import { FakeRemoteLink } from './fake-remote-link.ts';
import { SettingsStore } from './settings-store.ts';
import { EventRecorder, testSecretBox, until } from './test-support.ts';

const TTL_MS = 60_000;

function makeRuntime(extra: Partial<ExecutorRuntimeOptions> = {}): ExecutorRuntime {
  return new ExecutorRuntime({
    host: 'headless',
    version: '0.0.0-test',
    settings: new SettingsStore({ dir: null }),
    listen: { host: '127.0.0.1', port: 0, auth: { mode: 'none' } },
    detachedTtlMs: TTL_MS,
    ...extra,
  });
}

const isSession = (id: string, pred: (s: SessionView) => boolean = () => true) => (e: RuntimeEvent) =>
  e.type === 'session' && e.session.sessionId === id && pred(e.session);
const isProcess = (id: string, pred: (p: ProcessView) => boolean = () => true) => (e: RuntimeEvent) =>
  e.type === 'process' && e.process.processId === id && pred(e.process);
const isListener = (pred: (l: ListenerState) => boolean) => (e: RuntimeEvent) => e.type === 'listener' && pred(e.listener);

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<ControlError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ControlError, `expected a ControlError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected a rejection with ${code}`);
}

test('a real client: session with its carrier, process tail, terminate kills the OS process, disconnect detaches', async () => {
  const runtime = makeRuntime();
  const rec = new EventRecorder(runtime);
  try {
    const listener = (await runtime.dispatch('startListener', undefined)) as ListenerState;
    assert.equal(listener.status, 'listening');
    assert.match(listener.url!, /^ws:\/\/127\.0\.0\.1:\d+$/);

    const client = await RpcClient.connect(listener.url!);
    await rec.seen(isListener((l) => l.connections === 1), 5000, 'one connection');
    const { sessionId } = await client.handshake('runtime-test');
    const attached = (await rec.seen<Extract<RuntimeEvent, { type: 'session' }>>(isSession(sessionId))).session;
    assert.equal(attached.state, 'attached');
    assert.equal(attached.clientName, 'runtime-test');
    assert.equal(attached.carrier?.kind, 'local');
    assert.match((attached.carrier as { peer: string }).peer, /^127\.0\.0\.1:\d+$/);
    assert.equal(attached.expiresAtMs, null);

    await client.call('process/start', {
      processId: 'p1',
      argv: ['/bin/sh', '-c', 'echo pid=$$; for i in 1 2 3; do echo line$i; done; exec sleep 60'],
      cwd: 'file:///tmp',
      env: { PATH: '/usr/bin:/bin' },
      tty: false,
    });
    const withOutput = (await rec.seen<Extract<RuntimeEvent, { type: 'process' }>>(isProcess('p1', (p) => p.tail.includes('line3')))).process;
    const pid = Number(/pid=(\d+)/.exec(withOutput.tail)![1]);
    assert.equal(withOutput.pid, pid, 'exec keeps the pid the table reports');
    assert.equal(withOutput.state, 'running');
    assert.equal(withOutput.sessionId, sessionId);
    assert.ok(withOutput.outputBytes >= withOutput.tail.length);
    assert.ok(isAlive(pid));
    await rec.seen(isSession(sessionId, (s) => s.processCount === 1), 5000, 'processCount 1');

    const snap = runtime.snapshot();
    assert.equal(snap.sessions.find((s) => s.sessionId === sessionId)?.processCount, 1);
    assert.equal(snap.processes.length, 1);
    assert.match(snap.processes[0]!.tail, /line1\nline2\nline3\n$/);
    assert.equal(snap.listener.connections, 1);

    const result = await runtime.dispatch('terminateProcess', { sessionId, processId: 'p1' });
    assert.deepEqual(result, { running: true });
    const exited = (await rec.seen<Extract<RuntimeEvent, { type: 'process' }>>(isProcess('p1', (p) => p.state !== 'running'))).process;
    assert.notEqual(exited.exitedAtMs, null);
    await until(() => !isAlive(pid), 'the OS process is gone');
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    assert.deepEqual(await runtime.dispatch('terminateProcess', { sessionId, processId: 'p1' }), { running: false });

    const before = Date.now();
    client.terminate();
    const detached = (await rec.seen<Extract<RuntimeEvent, { type: 'session' }>>(isSession(sessionId, (s) => s.state === 'detached'))).session;
    assert.equal(detached.carrier, null);
    assert.ok(detached.expiresAtMs! >= before + TTL_MS && detached.expiresAtMs! <= Date.now() + TTL_MS, 'expiry = detach time + TTL');
    await rec.seen(isListener((l) => l.connections === 0), 5000, 'connections back to 0');
  } finally {
    rec.stop();
    await runtime.shutdown();
  }
});

test('closeSession drops the connection and kills the processes; shutdown kills every child', async () => {
  const runtime = makeRuntime();
  const rec = new EventRecorder(runtime);
  try {
    const { url } = await runtime.startListener();
    const a = await RpcClient.connect(url!);
    const { sessionId: sa } = await a.handshake('a');
    const b = await RpcClient.connect(url!);
    const { sessionId: sb } = await b.handshake('b');
    const spawnSleeper = async (client: RpcClient, processId: string) => {
      await client.call('process/start', { processId, argv: ['/bin/sh', '-c', 'echo pid=$$; exec sleep 60'], cwd: 'file:///tmp', env: { PATH: '/usr/bin:/bin' }, tty: false });
      const p = (await rec.seen<Extract<RuntimeEvent, { type: 'process' }>>(isProcess(processId, (v) => v.tail.includes('pid=')))).process;
      return Number(/pid=(\d+)/.exec(p.tail)![1]);
    };
    const pa = await spawnSleeper(a, 'pa');
    const pb = await spawnSleeper(b, 'pb');

    assert.deepEqual(await runtime.dispatch('closeSession', { sessionId: sa }), { closed: true });
    await a.closed(5000);
    await rec.seen((e) => e.type === 'sessionRemoved' && e.sessionId === sa, 5000, 'sessionRemoved');
    await until(() => !isAlive(pa), 'the closed session\'s process is gone');
    assert.ok(isAlive(pb), 'the other session is untouched');
    assert.deepEqual(await runtime.dispatch('closeSession', { sessionId: sa }), { closed: false });
    assert.ok(runtime.snapshot().sessions.every((s) => s.sessionId !== sa));

    await runtime.shutdown();
    assert.ok(!isAlive(pb), 'shutdown waited for the last child');
    await b.closed(5000);
    void sb;
  } finally {
    rec.stop();
    await runtime.shutdown();
  }
});

test('listener stop and start; a busy port is an error state with a clear message', async () => {
  const runtime = makeRuntime();
  const rec = new EventRecorder(runtime);
  try {
    const first = await runtime.startListener();
    const client = await RpcClient.connect(first.url!);
    const { sessionId } = await client.handshake('x');
    const stopped = (await runtime.dispatch('stopListener', {})) as ListenerState;
    assert.deepEqual({ status: stopped.status, url: stopped.url, connections: stopped.connections }, { status: 'stopped', url: null, connections: 0 });
    await client.closed(5000);
    await rec.seen(isSession(sessionId, (s) => s.state === 'detached'), 5000, 'session detached by the stop');
    await assert.rejects(RpcClient.connect(first.url!));
    assert.equal(runtime.snapshot().listener.status, 'stopped');

    const again = await runtime.startListener();
    assert.equal(again.status, 'listening');
    const resumed = await RpcClient.connect(again.url!);
    assert.equal((await resumed.handshake('x', sessionId)).sessionId, sessionId, 'the detached session resumes on the new listener');
    assert.deepEqual(await runtime.startListener(), runtime.snapshot().listener, 'starting twice is a no-op');
    resumed.terminate();
  } finally {
    rec.stop();
    await runtime.shutdown();
  }

  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const busy = makeRuntime({ listen: { host: '127.0.0.1', port, auth: { mode: 'none' } } });
  try {
    const err = await rejectsWith(busy.dispatch('startListener', undefined), 'failed');
    assert.match(err.message, /EADDRINUSE|in use/);
    const state = busy.snapshot().listener;
    assert.equal(state.status, 'error');
    assert.match(state.lastError!, /in use/);
    assert.ok(busy.snapshot().logs.some((l) => l.level === 'error' && l.message === 'listener failed to start'));
  } finally {
    await busy.shutdown();
    blocker.close();
  }
});

test('a remote link: its states and streams flow into the snapshot and events; commands reach it', async () => {
  const links: FakeRemoteLink[] = [];
  const fatals: Array<{ code: number; message: string }> = [];
  const runtime = makeRuntime({
    createRemoteLink: (context) => {
      assert.equal(typeof context.serve, 'function');
      assert.equal(context.settings.hasApiKey, false);
      const link = new FakeRemoteLink();
      links.push(link);
      return link;
    },
    onRemoteFatal: (f) => fatals.push(f),
  });
  const rec = new EventRecorder(runtime);
  try {
    assert.equal(runtime.snapshot().registration.status, 'stopped');
    const state = await runtime.dispatch('connectRemote', undefined);
    assert.equal((state as { status: string }).status, 'registering');
    const link = links[0]!;
    assert.deepEqual(link.calls, ['start']);

    const onlineSince = Date.now();
    link.setState({ status: 'online', registrationId: 'reg-1', onlineSinceMs: onlineSince });
    await rec.seen((e) => e.type === 'registration' && e.registration.status === 'online', 5000, 'online');
    assert.equal(runtime.snapshot().registration.registrationId, 'reg-1');

    link.setStream({ streamId: 's-1', state: 'open', bytesIn: 10, bytesOut: 20, openedAtMs: onlineSince, closedAtMs: null, endReason: null, sessionId: null });
    await rec.seen((e) => e.type === 'stream' && e.stream.streamId === 's-1');
    assert.equal(runtime.snapshot().streams[0]?.state, 'open');

    assert.deepEqual(await runtime.dispatch('resetStream', { streamId: 's-1' }), { reset: true });
    assert.equal(runtime.snapshot().streams[0]?.endReason, 'reset_by_user');
    assert.deepEqual(await runtime.dispatch('resetStream', { streamId: 'nope' }), { reset: false });
    link.removeStream('s-1');
    await rec.seen((e) => e.type === 'streamRemoved' && e.streamId === 's-1');
    assert.deepEqual(runtime.snapshot().streams, []);

    await runtime.dispatch('reconnectRemoteNow', undefined);
    assert.equal(link.calls.at(-1), 'reconnectNow');

    const off = (await runtime.dispatch('disconnectRemote', undefined)) as { status: string };
    assert.equal(off.status, 'stopped');
    assert.equal(link.calls.at(-1), 'stop');
    await rejectsWith(runtime.dispatch('reconnectRemoteNow', undefined), 'unavailable');

    await runtime.dispatch('connectRemote', undefined);
    assert.equal(links.length, 2, 'a new connect builds a new link (settings may have changed)');
    links[1]!.failForGood(1, 'registry refused the credential');
    await until(() => fatals.length === 1, 'the fatal outcome reached the host');
    assert.deepEqual(fatals[0], { code: 1, message: 'registry refused the credential' });
    assert.equal(runtime.snapshot().registration.status, 'error');
  } finally {
    rec.stop();
    await runtime.shutdown();
  }
  assert.equal(links[1]!.calls.at(-1), 'stop', 'shutdown stops the link');

  const without = makeRuntime();
  try {
    await rejectsWith(without.dispatch('connectRemote', undefined), 'unavailable');
    assert.equal(without.snapshot().registration.configured, false);
  } finally {
    await without.shutdown();
  }
});

test('dispatch validates commands and params', async () => {
  const runtime = makeRuntime();
  try {
    await rejectsWith(runtime.dispatch('rm -rf', undefined), 'unknown_command');
    await rejectsWith(runtime.dispatch('toString', undefined), 'unknown_command');
    await rejectsWith(runtime.dispatch('getSnapshot', [1]), 'invalid_params');
    await rejectsWith(runtime.dispatch('terminateProcess', { sessionId: 's' }), 'invalid_params');
    await rejectsWith(runtime.dispatch('terminateProcess', { sessionId: 's', processId: 'p', extra: 1 }), 'invalid_params');
    await rejectsWith(runtime.dispatch('terminateProcess', { sessionId: 's', processId: 'p' }), 'not_found');
    await rejectsWith(runtime.dispatch('closeSession', { sessionId: 42 }), 'invalid_params');
    await rejectsWith(runtime.dispatch('resetStream', null), 'invalid_params');
    await rejectsWith(runtime.dispatch('updateSettings', { listenUrl: 'ws://example.com:1' }), 'invalid_params');
    await rejectsWith(runtime.dispatch('updateSettings', { nope: true }), 'invalid_params');
    const snap = (await runtime.dispatch('getSnapshot', {})) as ReturnType<ExecutorRuntime['snapshot']>;
    assert.equal(snap.schemaVersion, 1);
    assert.equal(snap.host, 'headless');
  } finally {
    await runtime.shutdown();
  }
});

test('no secret in any snapshot or event: API key set through a SecretBox, then logged and passed to a child', async () => {
  const apiKey = 'sk-test-0123456789abcdefghijklmnopqrstuv';
  const runtime = makeRuntime({ settings: new SettingsStore({ dir: null, secretBox: testSecretBox }) });
  const rec = new EventRecorder(runtime);
  try {
    const view = (await runtime.dispatch('updateSettings', { apiKey })) as { hasApiKey: boolean };
    assert.equal(view.hasApiKey, true);
    runtime.log.info(`a careless message with ${apiKey} inside`, { apiKey, detail: `Authorization: Bearer ${apiKey}` });
    runtime.log.warn('token in a url', { url: `https://x.test/?token=${apiKey}&a=1` });

    const { url } = await runtime.startListener();
    const client = await RpcClient.connect(url!);
    const { sessionId } = await client.handshake('secret-test');
    await client.call('process/start', { processId: 'leak', argv: ['/bin/echo', apiKey], cwd: 'file:///tmp', env: { PATH: '/usr/bin:/bin' }, tty: false });
    await rec.seen(isProcess('leak', (p) => p.state !== 'running' && p.outputBytes > 0), 5000, 'the echo finished');
    assert.ok(runtime.snapshot().processes.some((p) => p.sessionId === sessionId && p.tail.includes('[redacted]')));

    const serialized = JSON.stringify(runtime.snapshot()) + JSON.stringify(rec.events);
    assert.ok(!serialized.includes(apiKey), 'the API key appears nowhere');
    assert.ok(!serialized.includes(apiKey.slice(3, 30)), 'not even a part of it');
    assert.ok(serialized.includes('[redacted]'));
    client.terminate();
  } finally {
    rec.stop();
    await runtime.shutdown();
  }
});

test("the executor's own credentials are never inherited by a child, even with ignoreDefaultExcludes", async () => {
  const saved = { ...process.env };
  process.env.CODEX_API_KEY = 'sk-test-inherited-key';
  process.env.CODEX_ACCESS_TOKEN = 'at-test-inherited-token';
  process.env.AWS_SECRET_ACCESS_KEY = 'aws-test-secret';
  process.env.EXEC_DESK_TEST_VISIBLE = 'visible';
  // Any run, and a run whose registration is SigV4-signed (the AWS keys are its credential then).
  const cases: Array<[string, Partial<ExecutorRuntimeOptions>, string]> = [
    ['api key', {}, 'AWS_SECRET_ACCESS_KEY=aws-test-secret\nEXEC_DESK_TEST_VISIBLE=visible\nPASSED_ON=explicit\n'],
    ['sigv4 link', { createRemoteLink: () => new FakeRemoteLink({ authMethod: 'aws-sigv4', transport: 'direct' }) }, 'EXEC_DESK_TEST_VISIBLE=visible\nPASSED_ON=explicit\n'],
  ];
  try {
    for (const [label, extra, expected] of cases) {
      const runtime = makeRuntime(extra);
      try {
        if (extra.createRemoteLink) runtime.connectRemote();
        const { url } = await runtime.startListener();
        const client = await RpcClient.connect(url!);
        await client.handshake('env-test');
        const everything = { inherit: 'all', ignoreDefaultExcludes: true, exclude: [], set: {}, includeOnly: [] };
        await client.call('process/start', {
          processId: 'env',
          argv: ['/bin/sh', '-c', 'env | grep -E "^(CODEX_API_KEY|CODEX_ACCESS_TOKEN|AWS_SECRET_ACCESS_KEY|EXEC_DESK_TEST_VISIBLE|PASSED_ON)=" | sort'],
          cwd: 'file:///tmp',
          env: { PASSED_ON: 'explicit' },
          envPolicy: everything,
          tty: false,
        });
        await client.waitFor((m) => m.method === 'process/closed' && (m.params as { processId: string }).processId === 'env');
        const read = (await client.call('process/read', { processId: 'env', afterSeq: 0 })) as { chunks: Array<{ chunk: string }> };
        const text = read.chunks.map((c) => Buffer.from(c.chunk, 'base64').toString('utf8')).join('');
        // What the harness passes itself still arrives; the executor's own credentials never do.
        assert.equal(text, expected, label);
        client.terminate();
      } finally {
        await runtime.shutdown();
      }
    }
  } finally {
    for (const name of ['CODEX_API_KEY', 'CODEX_ACCESS_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'EXEC_DESK_TEST_VISIBLE']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
});

test('launch follows the settings: listener on launch, remote link when configured to connect', async () => {
  const links: FakeRemoteLink[] = [];
  const settings = new SettingsStore({ dir: null });
  settings.update({ listenUrl: 'ws://127.0.0.1:0', remote: { registryUrl: 'https://api.openai.com', environmentId: 'env-1', connectOnLaunch: true } });
  const runtime = new ExecutorRuntime({
    host: 'desktop',
    version: '0.0.0-test',
    settings,
    createRemoteLink: (context) => {
      assert.equal(context.settings.remote.environmentId, 'env-1');
      const link = new FakeRemoteLink();
      links.push(link);
      return link;
    },
  });
  try {
    await runtime.launch();
    const snap = runtime.snapshot();
    assert.equal(snap.host, 'desktop');
    assert.equal(snap.listener.status, 'listening');
    assert.equal(snap.listener.authMode, 'none');
    assert.equal(links.length, 1);
    assert.equal(snap.registration.status, 'registering');
    const client = await RpcClient.connect(snap.listener.url!);
    await client.handshake('desktop-client');
    client.terminate();
  } finally {
    await runtime.shutdown();
  }

  const quiet = new SettingsStore({ dir: null });
  quiet.update({ startListenerOnLaunch: false });
  const idle = new ExecutorRuntime({ host: 'desktop', version: '0', settings: quiet, createRemoteLink: () => assert.fail('not configured') });
  try {
    await idle.launch();
    assert.equal(idle.snapshot().listener.status, 'stopped');
    assert.equal(idle.snapshot().registration.configured, false);
  } finally {
    await idle.shutdown();
  }
});

test('a relay stream\'s session: carrier relay, and the stream learns which session it serves', async () => {
  const link = new FakeRemoteLink();
  const runtime = makeRuntime({ createRemoteLink: () => link });
  const rec = new EventRecorder(runtime);
  try {
    runtime.connectRemote();
    link.setStream({ streamId: 'st-9', state: 'open', bytesIn: 0, bytesOut: 0, openedAtMs: 1, closedAtMs: null, endReason: null, sessionId: null });
    // What the relay host hands the exec-server: a pipe that names its stream.
    const pipe = Object.assign(new MemoryPipe(), { carrier: { kind: 'relay' as const, streamId: 'st-9' } });
    runtime.serve(pipe);
    const sessionId = await pipe.handshake('harness');
    const session = (await rec.seen<Extract<RuntimeEvent, { type: 'session' }>>(isSession(sessionId))).session;
    assert.deepEqual(session.carrier, { kind: 'relay', streamId: 'st-9' });
    await rec.seen((e) => e.type === 'stream' && e.stream.streamId === 'st-9' && e.stream.sessionId === sessionId, 5000, 'stream with its session');
    link.setStream({ ...link.streams()[0]!, bytesIn: 100 });
    assert.equal(runtime.snapshot().streams[0]!.sessionId, sessionId, 'later link updates keep the session');
    pipe.close();
    await rec.seen(isSession(sessionId, (s) => s.state === 'detached'));
    assert.equal(runtime.snapshot().streams[0]!.sessionId, sessionId);
  } finally {
    rec.stop();
    await runtime.shutdown();
  }
});
