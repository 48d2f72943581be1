/**
 * The product remote link on loopback: exec-desk's NoiseRemoteLink serving a real ExecServer,
 * registered with the fake registry, driven through its rendezvous by the project's Noise
 * harness. Real sockets, real processes; backoff and keepalive constants shortened through the
 * link's options so reconnect tests take milliseconds.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ExecServer } from '../core/exec-server.ts';
import { silentLogger } from '../core/log.ts';
import type { RegistrationState, StreamView } from '../control/contract.ts';
import { FakeRegistry, type FakeRegistryOptions, type RecordedUpgrade } from '../testkit/remote/fake-registry.ts';
import { NoiseHarness, runProcess } from '../testkit/remote/harness-client.ts';
import { testAuthProvider, type TestAuthProvider } from '../testkit/remote/test-auth.ts';
import { ManualClock } from '../testkit/remote/manual-clock.ts';
import { encodeRelayFrame } from '../transport/relay/frame-codec.ts';
import { AuthError } from './auth/auth-provider.ts';
import { NoiseRemoteLink, type NoiseRemoteLinkOptions } from './noise-remote-link.ts';
import type { RemoteLinkEvent } from './remote-link-types.ts';

const TOKEN = 'sk-link-test';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Setup {
  registry: FakeRegistry;
  link: NoiseRemoteLink;
  server: ExecServer;
  auth: TestAuthProvider;
  environmentId: string;
  events: RemoteLinkEvent[];
  statuses(): string[];
  /** Resolves when the link reaches `status` (now or later). */
  until(status: RegistrationState['status'], timeoutMs?: number): Promise<RegistrationState>;
  /** A fresh harness connection (the previous one dies with the executor socket). */
  harness(): Promise<NoiseHarness>;
}

async function withLink(
  run: (setup: Setup) => Promise<void>,
  options: { registry?: FakeRegistryOptions; link?: Partial<NoiseRemoteLinkOptions>; start?: boolean } = {},
): Promise<void> {
  const registry = await FakeRegistry.start({ executorToken: TOKEN, ...options.registry });
  const server = new ExecServer({ log: silentLogger });
  const auth = testAuthProvider(TOKEN);
  const environmentId = `env-${randomUUID().slice(0, 8)}`;
  const link = new NoiseRemoteLink({
    registryUrl: `${registry.baseUrl}/`,
    environmentId,
    name: 'laptop',
    auth,
    server,
    log: silentLogger,
    backoff: { initialMs: 20, maxMs: 200 },
    ...options.link,
  });
  const events: RemoteLinkEvent[] = [];
  const waiters: Array<() => void> = [];
  link.subscribe((event) => {
    events.push(event);
    for (const waiter of [...waiters]) waiter();
  });
  const harnesses: NoiseHarness[] = [];
  const setup: Setup = {
    registry,
    link,
    server,
    auth,
    environmentId,
    events,
    statuses: () => events.flatMap((e) => (e.type === 'state' ? [e.state.status] : [])).filter((s, i, all) => i === 0 || all[i - 1] !== s),
    until(status, timeoutMs = 10_000) {
      if (link.state.status === status) return Promise.resolve(link.state);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`link not ${status} within ${timeoutMs} ms: ${JSON.stringify(link.state)}`)), timeoutMs);
        const waiter = () => {
          if (link.state.status !== status) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(link.state);
        };
        waiters.push(waiter);
      });
    },
    async harness() {
      const harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId, token: 'harness-token' });
      harnesses.push(harness);
      return harness;
    },
  };
  try {
    if (options.start !== false) link.start();
    await run(setup);
  } finally {
    for (const harness of harnesses) harness.close();
    await link.stop();
    await server.shutdown();
    await registry.close();
  }
}

const streamView = (link: NoiseRemoteLink, streamId: string): StreamView | undefined => link.streams().find((s) => s.streamId === streamId);

async function eventually<T>(read: () => T | undefined | null | false, what: string, timeoutMs = 5_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value) return value;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('NoiseRemoteLink', () => {
  test('registers, connects and publishes its state in order; no credential on the upgrade', async () => {
    await withLink(async ({ registry, link, until, statuses, environmentId }) => {
      const online = await until('online');
      assert.deepEqual(statuses(), ['registering', 'connecting', 'online']);
      assert.equal(online.registryUrl, registry.baseUrl);
      assert.equal(online.environmentId, environmentId);
      assert.equal(online.name, 'laptop');
      assert.equal(online.transport, 'noise');
      assert.equal(online.authMethod, 'api-key');
      assert.equal(online.registrationId, registry.environments.get(environmentId)!.registrationId);
      assert.equal(online.attempts, 1);
      assert.ok(online.onlineSinceMs);
      const [upgrade] = registry.executorUpgrades(environmentId);
      assert.ok(!upgrade!.headers.some(([name]) => name === 'authorization'));
      assert.match(upgrade!.headers.find(([name]) => name === 'x-request-id')![1], /^req_[0-9a-f]{32}$/);
      assert.equal(link.streams().length, 0);
    });
  });

  test('two streams share the one executor socket without cross-talk; views count bytes and learn the session', async () => {
    await withLink(async ({ registry, link, until, environmentId, harness: connect }) => {
      await until('online');
      const harness = await connect();
      const [a, b] = await Promise.all([harness.openStream(), harness.openStream()]);
      const [initA, initB] = await Promise.all([a.initialize(), b.initialize()]);
      assert.notEqual(initA.sessionId, initB.sessionId);
      const [outA, outB] = await Promise.all([
        runProcess(a, 'p', ['sh', '-c', 'for i in 1 2 3; do echo A$i; sleep 0.05; done']),
        runProcess(b, 'p', ['sh', '-c', 'for i in 1 2 3; do echo B$i; sleep 0.05; done']),
      ]);
      assert.deepEqual(outA, { stdout: 'A1\nA2\nA3\n', exitCode: 0 });
      assert.deepEqual(outB, { stdout: 'B1\nB2\nB3\n', exitCode: 0 });
      assert.equal(registry.executorUpgrades(environmentId).length, 1);
      const viewA = await eventually(() => {
        const view = streamView(link, a.streamId);
        return view?.sessionId && view.bytesOut > 0 ? view : undefined;
      }, 'stream A view with its session');
      assert.equal(viewA.state, 'open');
      assert.equal(viewA.sessionId, initA.sessionId);
      assert.ok(viewA.bytesIn > 100 && viewA.bytesOut > 100, JSON.stringify(viewA));
      assert.equal(streamView(link, b.streamId)?.sessionId ?? initB.sessionId, initB.sessionId);
    });
  });

  test('resetStream ends one stream (reset on the wire) and leaves the other working; the session can be resumed', async () => {
    await withLink(async ({ link, until, harness: connect }) => {
      await until('online');
      const harness = await connect();
      const keep = await harness.openStream();
      const doomed = await harness.openStream();
      await keep.initialize();
      const { sessionId } = await doomed.initialize();
      // Output produced after the reset is retained for the detached session.
      await doomed.call('process/start', { processId: 'late', argv: ['sh', '-c', 'sleep 0.3; echo after-reset'], cwd: `file://${process.cwd()}`, env: { PATH: process.env.PATH }, tty: false, arg0: null });
      assert.equal(link.resetStream(doomed.streamId), true);
      assert.equal(await doomed.endedPromise(), 'noise_relay_protocol_error');
      assert.equal(link.resetStream(doomed.streamId), false);
      assert.equal(link.resetStream('no-such-stream'), false);
      const closed = await eventually(() => streamView(link, doomed.streamId)?.state === 'closed' && streamView(link, doomed.streamId), 'closed view');
      assert.equal(closed.endReason, 'local_reset');
      assert.ok(closed.closedAtMs);
      assert.equal(keep.ended, null);
      assert.deepEqual(await runProcess(keep, 'still', ['echo', 'still here']), { stdout: 'still here\n', exitCode: 0 });

      const resumed = await harness.openStream();
      assert.equal((await resumed.initialize('codex-environment', sessionId)).sessionId, sessionId);
      await resumed.waitForNotification('process/closed', (p) => p.processId === 'late', 10_000).catch(() => undefined);
      const read = await resumed.call('process/read', { processId: 'late', afterSeq: 0, waitMs: 3_000 });
      const text = read.chunks.map((c: { chunk: string }) => Buffer.from(c.chunk, 'base64').toString('utf8')).join('');
      assert.equal(text, 'after-reset\n');
    });
  });

  test('a harness reset closes the view (peer_reset); closed views are removed after the retention time', async () => {
    await withLink(
      async ({ link, until, events, harness: connect }) => {
        await until('online');
        const harness = await connect();
        const stream = await harness.openStream();
        await stream.initialize();
        stream.reset('done');
        const closed = await eventually(() => streamView(link, stream.streamId)?.state === 'closed' && streamView(link, stream.streamId), 'closed view');
        assert.equal(closed.endReason, 'peer_reset');
        await eventually(() => events.some((e) => e.type === 'streamRemoved' && e.streamId === stream.streamId), 'streamRemoved');
        assert.equal(streamView(link, stream.streamId), undefined);
        const states = events.flatMap((e) => (e.type === 'stream' && e.stream.streamId === stream.streamId ? [e.stream.state] : []));
        assert.deepEqual(states.filter((s, i) => i === 0 || states[i - 1] !== s), ['handshaking', 'validating', 'open', 'closed']);
      },
      { link: { closedStreamRetentionMs: 100 } },
    );
  });

  test('the rendezvous drops the socket 5 times in a row: the link reconnects on the same URL and no output is lost', async () => {
    await withLink(async ({ registry, link, until, statuses, environmentId, harness: connect }) => {
      await until('online');
      let harness = await connect();
      let stream = await harness.openStream();
      const { sessionId } = await stream.initialize();
      await stream.call('process/start', {
        processId: 'ticker',
        argv: ['sh', '-c', 'for i in $(seq 1 40); do echo tick$i; sleep 0.02; done'],
        cwd: `file://${process.cwd()}`,
        env: { PATH: process.env.PATH },
        tty: false,
        arg0: null,
      });
      for (let drop = 1; drop <= 5; drop++) {
        const reconnected = new Promise<void>((resolve) => {
          const off = link.subscribe((event) => {
            if (event.type === 'state' && event.state.status === 'online') {
              off();
              resolve();
            }
          });
        });
        registry.dropExecutor(environmentId);
        await reconnected;
        harness.close();
        harness = await connect();
        stream = await harness.openStream();
        assert.equal((await stream.initialize('codex-environment', sessionId)).sessionId, sessionId);
      }
      await stream.waitForNotification('process/closed', (p) => p.processId === 'ticker', 15_000).catch(() => undefined);
      const read = await stream.call('process/read', { processId: 'ticker', afterSeq: 0, waitMs: 5_000 });
      const text = read.chunks.map((c: { chunk: string }) => Buffer.from(c.chunk, 'base64').toString('utf8')).join('');
      assert.equal(text, Array.from({ length: 40 }, (_, i) => `tick${i + 1}\n`).join(''));

      assert.equal(registry.registrations(environmentId).length, 1, 'a dropped socket does not re-register');
      const urls = new Set(registry.executorUpgrades(environmentId).map((u) => u.url));
      assert.equal(urls.size, 1, 'the same rendezvous URL every time');
      assert.equal(link.state.attempts, 6);
      assert.deepEqual(statuses(), ['registering', 'connecting', 'online', ...Array(5).fill(['reconnecting', 'connecting', 'online']).flat()]);
      assert.match(link.state.lastError ?? '', /rendezvous connection ended \(peer_close\)/);
    });
  });

  test('a 4xx upgrade answer re-registers at once with the same key; 5xx and 3xx retry the same URL', async () => {
    const answers = [503, 302, 404, 500, 403];
    let envId = '';
    await withLink(
      async ({ registry, until, environmentId }) => {
        envId = environmentId;
        await until('online');
        const upgrades = registry.executorUpgrades(environmentId);
        assert.deepEqual(upgrades.map((u) => u.status), [503, 302, 404, 500, 403, 101]);
        const registrations = registry.registrations(environmentId);
        assert.equal(registrations.length, 3, 'one registration plus one per 4xx');
        assert.equal(new Set(registrations.map((r) => r.rawBody)).size, 1, 'the same key every time');
        const sigs = upgrades.map((u) => new URL(u.url, 'http://x').searchParams.get('sig'));
        assert.equal(sigs[0], sigs[1], '5xx → same URL');
        assert.equal(sigs[1], sigs[2], '3xx → same URL');
        assert.notEqual(sigs[2], sigs[3], '4xx → a new registration and URL');
        assert.notEqual(sigs[4], sigs[5]);
      },
      {
        registry: {
          rejectUpgrades: (upgrade: RecordedUpgrade) => (upgrade.role === 'environment' && upgrade.environmentId === envId ? answers.shift() : undefined),
        },
      },
    );
  });

  test('a message over 256 KiB drops the socket; the link comes back', async () => {
    await withLink(async ({ registry, link, until, environmentId, harness: connect }) => {
      await until('online');
      const harness = await connect();
      const stream = await harness.openStream();
      const closed = registry.executorClosed(environmentId);
      harness.sendRaw(Buffer.concat([Buffer.from(encodeRelayFrame({ streamId: stream.streamId, body: { kind: 'heartbeat' } })), Buffer.from([0x9a, 0x06, 0x81, 0x80, 0x10]), Buffer.alloc(0x40001)]));
      await closed;
      assert.equal(registry.executorCloseCodes.at(-1), 1006, 'no Close frame');
      await eventually(() => link.state.status === 'online' && link.state.attempts === 2, 'back online');
      assert.match(link.state.lastError ?? '', /read_error/);
      assert.equal(streamView(link, stream.streamId)?.endReason, 'socket_closed');
    });
  });

  test('no pong within the deadline drops the socket and reconnects', async () => {
    await withLink(
      async ({ link, until }) => {
        await until('online');
        await eventually(() => link.state.attempts >= 2 && link.state.status === 'online', 'a reconnect after a pong timeout', 5_000);
        assert.match(link.state.lastError ?? '', /pong_timeout/);
      },
      { registry: { autoPong: false }, link: { keepalive: { pingIntervalMs: 50, pongTimeoutMs: 100 } } },
    );
  });

  test('backoff: b from 1 s doubling to 30 s after every attempt, not reset by a successful connection', async () => {
    const clock = new ManualClock();
    let refusals = 3;
    let envId = '';
    await withLink(
      async ({ registry, link, environmentId }) => {
        envId = environmentId;
        const waits: number[] = [];
        const nextWait = () =>
          new Promise<number>((resolve) => {
            const off = link.subscribe((event) => {
              if (event.type !== 'state' || event.state.status !== 'reconnecting') return;
              off();
              resolve(event.state.nextAttemptAtMs! - clock.now());
            });
          });
        const online = () => eventually(() => link.state.status === 'online', 'online');
        // three refused upgrades (503), then a successful connection
        for (let i = 0; i < 3; i++) {
          const wait = await nextWait();
          waits.push(wait);
          clock.advance(wait);
        }
        await online();
        // dropped four times: the delay keeps doubling from where it was, capped at 30 s
        for (let i = 0; i < 4; i++) {
          const next = nextWait();
          registry.dropExecutor(environmentId);
          const wait = await next;
          waits.push(wait);
          clock.advance(wait);
          await online();
        }
        assert.deepEqual(waits, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
        assert.equal(link.state.attempts, 8);
      },
      {
        link: { clock, random: () => 1, backoff: {} },
        registry: { rejectUpgrades: (u: RecordedUpgrade) => (u.role === 'environment' && u.environmentId === envId && refusals-- > 0 ? 503 : undefined) },
      },
    );
  });

  test('reconnectNow skips the backoff wait', async () => {
    await withLink(
      async ({ registry, link, until, environmentId }) => {
        await until('online');
        registry.dropExecutor(environmentId);
        const waiting = await until('reconnecting');
        assert.ok(waiting.nextAttemptAtMs! - Date.now() > 20_000, 'a long wait is scheduled');
        link.reconnectNow();
        await until('online', 5_000);
      },
      { link: { backoff: { initialMs: 60_000, maxMs: 60_000 } } },
    );
  });

  test('stop drops the socket without a Close frame or resets; start again registers the same key', async () => {
    await withLink(async ({ registry, link, until, environmentId, harness: connect }) => {
      await until('online');
      const harness = await connect();
      const stream = await harness.openStream();
      await stream.initialize();
      const closed = registry.executorClosed(environmentId);
      await link.stop();
      await closed;
      assert.equal(link.state.status, 'stopped');
      assert.equal(registry.executorCloseCodes.at(-1), 1006);
      assert.equal(registry.frames.filter((f) => f.direction === 'executor->harness' && f.streamId === stream.streamId).length, 2, 'handshake and initialize result only: no reset');
      assert.equal(streamView(link, stream.streamId)?.endReason, 'socket_closed');
      link.start();
      await until('online');
      const registrations = registry.registrations(environmentId);
      assert.equal(registrations.length, 2);
      assert.equal(registrations[0]!.rawBody, registrations[1]!.rawBody);
    });
  });

  test('refused handshakes show as closed views; validate rejection and the 401 marker have their reasons', async () => {
    let validate: 'ok' | 'invalid' | '401' = 'ok';
    await withLink(
      async ({ link, until, harness: connect }) => {
        await until('online');
        const harness = await connect();
        validate = 'invalid';
        await assert.rejects(harness.openStream({ streamId: 'rejected' }));
        validate = '401';
        await assert.rejects(harness.openStream({ streamId: 'marker' }));
        validate = 'ok';
        for (let i = 0; i < 8; i++) harness.sendFrame({ streamId: `bad-${i}`, body: { kind: 'handshake', payload: new Uint8Array(3600) } });
        await assert.rejects(harness.openStream({ streamId: 'cooled' }));
        const reason = (id: string) => streamView(link, id)?.endReason;
        await eventually(() => reason('cooled'), 'cooldown view');
        assert.equal(reason('rejected'), 'validation_rejected');
        assert.equal(reason('marker'), 'registry_auth');
        assert.equal(reason('bad-0'), 'handshake_request');
        assert.equal(reason('cooled'), 'cooldown');
      },
      {
        registry: {
          intercept: (request) =>
            request.endpoint !== 'validate' || validate === 'ok'
              ? undefined
              : validate === 'invalid'
                ? { status: 200, body: { valid: false } }
                : { status: 401, body: { error: { code: 'unauthorized', message: 'no' } } },
        },
      },
    );
  });

  test('fatal registration errors: state error or auth_needed, and `fatal` carries the exit line', async () => {
    await withLink(
      async ({ link, until }) => {
        await until('error');
        assert.deepEqual(await link.fatal, { code: 1, message: 'Error: environment registry request failed (400 Bad Request, bad_request): nope' });
        assert.equal(link.state.lastError, 'environment registry request failed (400 Bad Request, bad_request): nope');
      },
      { registry: { intercept: (r) => (r.endpoint === 'register' ? { status: 400, body: { error: { code: 'bad_request', message: 'nope' } } } : undefined) } },
    );
    await withLink(
      async ({ link, until }) => {
        await until('auth_needed');
        assert.deepEqual(await link.fatal, {
          code: 1,
          message: 'Error: environment registry authentication error: environment registry authentication failed (401 Unauthorized): bad executor credential',
        });
      },
      { registry: { executorToken: 'another-token' } },
    );
    await withLink(
      async ({ link, until }) => {
        await until('error');
        // serde's text is repeated as anyhow's cause, as 0.169.0 prints it
        assert.deepEqual(await link.fatal, {
          code: 1,
          message: 'Error: failed to serialize or deserialize exec-server JSON: missing field `url` at line 1 column 22\n\nCaused by:\n    missing field `url` at line 1 column 22',
        });
      },
      { registry: { intercept: (r) => (r.endpoint === 'register' ? { status: 200, body: '{"environment_id":"E"}' } : undefined) } },
    );
    await withLink(
      async ({ link, auth, until, registry }) => {
        auth.failWith = new AuthError('sign in again', 'auth_needed');
        link.start();
        await until('auth_needed');
        assert.deepEqual(await link.fatal, { code: 1, message: 'Error: sign in again' });
        assert.equal(registry.requests.length, 0, 'no request without a credential');
      },
      { start: false },
    );
  });

  test('retryable registration answers keep the link registering with a next attempt time', async () => {
    let conflicts = 2;
    await withLink(
      async ({ until, statuses, events }) => {
        await until('online', 15_000);
        assert.deepEqual(statuses(), ['registering', 'connecting', 'online']);
        const retrying = events.flatMap((e) => (e.type === 'state' && e.state.status === 'registering' && e.state.nextAttemptAtMs ? [e.state] : []));
        assert.equal(retrying.length, 2);
        assert.match(retrying[0]!.lastError!, /registration_conflict/);
      },
      { registry: { intercept: (r) => (r.endpoint === 'register' && conflicts-- > 0 ? { status: 503, body: { error: { code: 'registration_conflict', message: 'busy' } } } : undefined) } },
    );
  });

  test('129 queued messages on one stream reset it; the stream before that was served', async () => {
    await withLink(async ({ until, harness: connect }) => {
      await until('online');
      const harness = await connect();
      const stream = await harness.openStream();
      await stream.initialize();
      await stream.call('process/start', { processId: 'idle', argv: ['sleep', '5'], cwd: `file://${process.cwd()}`, env: { PATH: process.env.PATH }, tty: false, arg0: null });
      // A long-polling read occupies the (inline) connection; what follows queues behind it.
      stream.send({ id: 'blocker', method: 'process/read', params: { processId: 'idle', afterSeq: 1000, waitMs: 1_500 } });
      await sleep(100);
      for (let i = 0; i < 128; i++) stream.send({ id: `q${i}`, method: 'process/read', params: { processId: 'idle', afterSeq: 0 } });
      await sleep(300);
      assert.equal(stream.ended, null, '128 queued messages are fine');
      stream.send({ id: 'q128', method: 'process/read', params: { processId: 'idle', afterSeq: 0 } });
      assert.equal(await stream.endedPromise(5_000), 'noise_relay_protocol_error');
    });
  });
});
