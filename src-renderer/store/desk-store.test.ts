import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlApi, ControlCommandName, RuntimeEvent } from '../../src-main/control/contract.ts';
import { commandKey, createDeskStore, MAX_ERRORS, toCommandFailure } from './desk-store.ts';
import { processFixture, snapshotFixture } from './test-fixtures.ts';

/** A ControlApi whose answers the test controls. */
function fakeClient() {
  const listeners = new Set<(e: RuntimeEvent) => void>();
  const calls: Array<{ command: ControlCommandName; params: unknown }> = [];
  const answers = new Map<ControlCommandName, () => Promise<unknown>>();
  const api: ControlApi = {
    invoke(command, params) {
      calls.push({ command, params });
      const answer = answers.get(command);
      return (answer ? answer() : Promise.reject({ code: 'unknown_command', message: `no answer for ${command}` })) as never;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { api, calls, answers, listeners, emit: (e: RuntimeEvent) => listeners.forEach((l) => l(e)) };
}

/** A store already connected to `fake`. */
async function started(fake: ReturnType<typeof fakeClient>, now?: () => number) {
  if (!fake.answers.has('getSnapshot')) fake.answers.set('getSnapshot', async () => snapshotFixture());
  const store = createDeskStore(async () => fake.api, now);
  await store.actions.start();
  return store;
}

test('drops events older than the snapshot and applies the ones after it', async () => {
  const fake = fakeClient();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  fake.answers.set('getSnapshot', async () => {
    await gate;
    return snapshotFixture({ processes: [processFixture('s', 'p', { state: 'exited', exitCode: 0 })] });
  });
  const store = createDeskStore(async () => fake.api);
  const started = store.actions.start();
  assert.equal(store.getState().connection, 'connecting');
  await new Promise((r) => setImmediate(r));
  assert.equal(fake.listeners.size, 1, 'subscribed before asking for the snapshot');
  // Sent before the snapshot was taken: must not overwrite it.
  fake.emit({ type: 'process', process: processFixture('s', 'p', { state: 'running' }) });
  release();
  await started;
  assert.equal(store.getState().connection, 'ready');
  assert.equal(store.getState().snapshot?.processes[0]?.state, 'exited');
  fake.emit({ type: 'process', process: processFixture('s', 'p', { state: 'closed', exitCode: 0 }) });
  assert.equal(store.getState().snapshot?.processes[0]?.state, 'closed');
  store.actions.stop();
  assert.equal(fake.listeners.size, 0);
});

test('a failed snapshot puts the connection in error with the reason', async () => {
  const fake = fakeClient();
  fake.answers.set('getSnapshot', () => Promise.reject(new Error('socket closed')));
  const store = createDeskStore(async () => fake.api);
  await store.actions.start();
  assert.equal(store.getState().connection, 'error');
  assert.equal(store.getState().connectionError, 'socket closed');
});

test('run records rejected commands with their code and clears pending', async () => {
  const fake = fakeClient();
  fake.answers.set('terminateProcess', () => Promise.reject({ code: 'not_found', message: 'no such process' }));
  const store = await started(fake, () => 77);
  const key = commandKey('terminateProcess', 's/p');
  const running = store.actions.run('terminateProcess', { sessionId: 's', processId: 'p' }, key);
  assert.deepEqual(store.getState().pending, { [key]: true });
  assert.equal(await running, null);
  assert.deepEqual(store.getState().pending, {});
  const [error] = store.getState().errors;
  assert.deepEqual(error, { id: 1, command: 'terminateProcess', code: 'not_found', message: 'no such process', atMs: 77 });
  store.actions.dismissError(1);
  assert.deepEqual(store.getState().errors, []);
});

test('run does not fire the same command twice while one is in flight', async () => {
  const fake = fakeClient();
  let release!: (v: unknown) => void;
  fake.answers.set('startListener', () => new Promise((r) => (release = r)));
  const store = await started(fake);
  const first = store.actions.run('startListener', undefined);
  assert.equal(await store.actions.run('startListener', undefined), null);
  assert.equal(fake.calls.filter((c) => c.command === 'startListener').length, 1);
  release({ status: 'listening' });
  assert.deepEqual(await first, { status: 'listening' });
});

test('keeps at most MAX_ERRORS errors, newest first', async () => {
  const fake = fakeClient();
  fake.answers.set('connectRemote', () => Promise.reject(new Error('boom')));
  const store = await started(fake);
  for (let i = 0; i < MAX_ERRORS + 3; i++) await store.actions.run('connectRemote', undefined);
  const errors = store.getState().errors;
  assert.equal(errors.length, MAX_ERRORS);
  assert.equal(errors[0]?.id, MAX_ERRORS + 3);
  assert.equal(errors[0]?.code, 'transport');
});

test('toCommandFailure keeps known codes and falls back to transport', () => {
  assert.deepEqual(toCommandFailure({ code: 'invalid_params', message: 'bad' }), { code: 'invalid_params', message: 'bad' });
  assert.deepEqual(toCommandFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' })), { code: 'transport', message: 'x' });
  assert.deepEqual(toCommandFailure('plain'), { code: 'transport', message: 'plain' });
});

test('a closed connection shows as an error, and start() connects again', async () => {
  let closeListener: (() => void) | null = null;
  let opened = 0;
  const fake = fakeClient();
  fake.answers.set('getSnapshot', async () => snapshotFixture());
  const store = createDeskStore(async () => {
    opened++;
    return { ...fake.api, onClose: (l: () => void) => ((closeListener = l), () => (closeListener = null)) };
  });
  await store.actions.start();
  assert.equal(store.getState().connection, 'ready');
  closeListener!();
  assert.equal(store.getState().connection, 'error');
  assert.match(store.getState().connectionError ?? '', /closed/);
  await store.actions.start();
  assert.equal(store.getState().connection, 'ready');
  assert.equal(opened, 2);
  assert.equal(fake.listeners.size, 1, 'the old subscription was dropped');
});

test('a source that cannot connect is a connection error, and commands are refused', async () => {
  const store = createDeskStore(() => Promise.reject({ code: 'unavailable', message: 'HTTP 401' }));
  await store.actions.start();
  assert.deepEqual([store.getState().connection, store.getState().connectionError], ['error', 'HTTP 401']);
  assert.equal(await store.actions.run('startListener', undefined), null);
  assert.equal(store.getState().errors[0]?.code, 'unavailable');
});
