import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControlError } from '../control/control-error.ts';
import { createInvokeHandler, isTrustedSender } from './ipc-invoke.ts';

const app = { frameUrl: 'app://exec-desk/index.html', isMainFrame: true };

test('only the main frame of the app origin is trusted', () => {
  assert.equal(isTrustedSender(app), true);
  assert.equal(isTrustedSender({ ...app, isMainFrame: false }), false);
  assert.equal(isTrustedSender({ ...app, frameUrl: null }), false);
  assert.equal(isTrustedSender({ ...app, frameUrl: 'https://evil.example/' }), false);
  assert.equal(isTrustedSender({ ...app, frameUrl: 'file:///tmp/index.html' }), false);
});

test('runs commands from the app and wraps results and errors', async () => {
  const calls: unknown[][] = [];
  const handle = createInvokeHandler(async (command, params) => {
    calls.push([command, params]);
    if (command === 'closeSession') throw new ControlError('not_found', 'no session x');
    if (command === 'stopListener') throw new Error('disk on fire');
    return { running: true };
  });
  assert.deepEqual(await handle(app, 'terminateProcess', { sessionId: 's', processId: 'p' }), { ok: true, result: { running: true } });
  assert.deepEqual(await handle(app, 'closeSession', { sessionId: 'x' }), { ok: false, error: { code: 'not_found', message: 'no session x' } });
  assert.deepEqual(await handle(app, 'stopListener', undefined), { ok: false, error: { code: 'failed', message: 'disk on fire' } });
  assert.equal(calls.length, 3);
});

test('refuses strangers and unknown commands without dispatching', async () => {
  let dispatched = 0;
  const handle = createInvokeHandler(async () => dispatched++);
  const stranger = await handle({ frameUrl: 'https://evil.example/', isMainFrame: true }, 'getSnapshot', undefined);
  assert.equal(stranger.ok, false);
  assert.equal(!stranger.ok && stranger.error.code, 'unavailable');
  const unknown = await handle(app, 'spawnShell', {});
  assert.equal(!unknown.ok && unknown.error.code, 'unknown_command');
  assert.equal((await handle(app, { toString: () => 'getSnapshot' }, undefined)).ok, false);
  assert.equal(dispatched, 0);
});
