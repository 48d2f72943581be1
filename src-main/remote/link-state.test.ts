import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RegistrationState } from '../control/contract.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import { ManualClock } from '../testkit/remote/manual-clock.ts';
import { initialRegistration, LinkState } from './link-state.ts';
import type { RemoteLinkEvent } from './remote-link-types.ts';

function makeState(log: Logger = silentLogger) {
  const clock = new ManualClock();
  const initial = initialRegistration({ registryUrl: ' http://127.0.0.1:9/api/ ', environmentId: ' env-1 ', transport: 'noise', authMethod: 'api-key' });
  const link = new LinkState(initial, clock, log);
  const events: RemoteLinkEvent[] = [];
  link.subscribe((e) => events.push(e));
  const statuses = () => events.flatMap((e) => (e.type === 'state' ? [e.state.status] : []));
  return { clock, link, events, statuses };
}

test('the initial state: stopped, configured, the trimmed registry base and environment id', () => {
  const { link } = makeState();
  assert.deepEqual(
    { ...link.current },
    {
      status: 'stopped',
      configured: true,
      registryUrl: link.current.registryUrl,
      environmentId: 'env-1',
      name: null,
      transport: 'noise',
      authMethod: 'api-key',
      registrationId: null,
      nextAttemptAtMs: null,
      attempts: 0,
      onlineSinceMs: null,
      lastError: null,
      lastErrorAtMs: null,
    } satisfies RegistrationState,
  );
  assert.match(link.current.registryUrl ?? '', /^http:\/\/127\.0\.0\.1:9\/api/);
});

test('set publishes a fresh object; noteError waits for the next change; a throwing listener is logged, not thrown', () => {
  const logged: string[] = [];
  const log = { ...silentLogger, error: (message: string) => logged.push(message) } as Logger;
  const { clock, link, events } = makeState(log);
  link.subscribe(() => {
    throw new Error('listener bug');
  });
  const before = link.current;
  link.noteError('first failure');
  assert.equal(events.length, 0, 'noting an error publishes nothing by itself');
  link.set({ status: 'reconnecting', nextAttemptAtMs: clock.now() + 500 });
  assert.notEqual(link.current, before);
  const last = events.at(-1);
  assert.ok(last?.type === 'state');
  assert.deepEqual([last.state.status, last.state.lastError, last.state.lastErrorAtMs], ['reconnecting', 'first failure', clock.now()]);
  assert.deepEqual(logged, ['remote link listener failed']);
});

test('start runs the loop once from registering; stop aborts it, drops the connection and ends stopped', async () => {
  const { link, statuses } = makeState();
  let loops = 0;
  let sawAbort = false;
  const drops: string[] = [];
  const loop = async (signal: AbortSignal) => {
    loops++;
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    sawAbort = signal.aborted;
  };
  link.start(loop);
  link.start(loop);
  assert.equal(loops, 1, 'a second start while running is a no-op');
  assert.equal(link.current.status, 'registering');
  await link.stop(() => drops.push('dropped'));
  assert.ok(sawAbort);
  assert.deepEqual(drops, ['dropped']);
  assert.deepEqual(statuses(), ['registering', 'stopped']);
  link.start(loop);
  assert.equal(loops, 2, 'after a stop the loop can start again');
  await link.stop(() => undefined);
});

test('fail: auth_needed or error with the message, fatal with the Caused by block, settled once', async () => {
  const { link } = makeState();
  link.fail(new Error('registry said no'), { authNeeded: true, causes: ['HTTP error: 401 Unauthorized'] });
  link.fail(new Error('a later failure'), { authNeeded: false, causes: [] });
  assert.equal(link.current.status, 'error', 'the state follows every failure');
  assert.deepEqual(await link.fatal, { code: 1, message: 'Error: registry said no\n\nCaused by:\n    HTTP error: 401 Unauthorized' });
  const other = makeState().link;
  other.finish(0, '');
  other.fail(new Error('after a clean end'), { authNeeded: true, causes: [] });
  assert.deepEqual(await other.fatal, { code: 0, message: '' });
  assert.equal(other.current.status, 'auth_needed');
});

test('sleep ends on the clock, early on wake(), and rejects when the run is aborted', async () => {
  const { clock, link } = makeState();
  let done = false;
  const waiting = link.sleep(1000).then(() => (done = true));
  clock.advance(999);
  await Promise.resolve();
  assert.equal(done, false);
  clock.advance(1);
  await waiting;

  const woken = link.sleep(60_000);
  link.wake();
  await woken;
  link.wake(); // nothing waits: a no-op

  const abort = new AbortController();
  const aborted = link.sleep(60_000, abort.signal);
  abort.abort(new Error('stopped'));
  await assert.rejects(aborted, /stopped/);
});
