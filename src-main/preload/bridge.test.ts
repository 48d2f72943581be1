import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_CHANNEL, type RuntimeEvent } from '../control/contract.ts';
import { createControlBridge, type IpcRendererLike } from './bridge.ts';

function fakeIpc(reply: (channel: string, args: unknown[]) => unknown) {
  const emitter = new EventEmitter();
  const invoked: Array<{ channel: string; args: unknown[] }> = [];
  const ipc: IpcRendererLike = {
    async invoke(channel, ...args) {
      invoked.push({ channel, args });
      return reply(channel, args);
    },
    on: (channel, listener) => emitter.on(channel, listener),
    removeListener: (channel, listener) => emitter.removeListener(channel, listener),
  };
  return { ipc, invoked, emitter };
}

test('invoke sends known commands on the invoke channel and unwraps the result', async () => {
  const { ipc, invoked } = fakeIpc(() => ({ ok: true, result: { running: true } }));
  const api = createControlBridge(ipc);
  assert.deepEqual(await api.invoke('terminateProcess', { sessionId: 's', processId: 'p' }), { running: true });
  assert.deepEqual(invoked, [{ channel: IPC_INVOKE_CHANNEL, args: ['terminateProcess', { sessionId: 's', processId: 'p' }] }]);
});

test('invoke refuses names outside the contract without touching IPC', async () => {
  const { ipc, invoked } = fakeIpc(() => ({ ok: true, result: null }));
  const api = createControlBridge(ipc);
  for (const name of ['shell', '__proto__', 'constructor', 42]) {
    await assert.rejects(api.invoke(name as never, undefined as never), { code: 'unknown_command' });
  }
  assert.equal(invoked.length, 0);
});

test('invoke rejects with the payload main sent, and on malformed replies', async () => {
  const api = createControlBridge(fakeIpc(() => ({ ok: false, error: { code: 'not_found', message: 'gone' } })).ipc);
  await assert.rejects(api.invoke('closeSession', { sessionId: 'x' }), { code: 'not_found', message: 'gone' });
  const broken = createControlBridge(fakeIpc(() => 'garbage').ipc);
  await assert.rejects(broken.invoke('getSnapshot', undefined), { code: 'failed' });
});

test('subscribe forwards only the payload and unsubscribes once', () => {
  const { ipc, emitter } = fakeIpc(() => null);
  const api = createControlBridge(ipc);
  const seen: unknown[][] = [];
  const off = api.subscribe((...args: unknown[]) => seen.push(args));
  const event: RuntimeEvent = { type: 'sessionRemoved', sessionId: 's' };
  emitter.emit(IPC_EVENT_CHANNEL, { sender: 'the IpcRendererEvent' }, event);
  assert.deepEqual(seen, [[event]], 'the IpcRendererEvent never reaches the page');
  off();
  off();
  emitter.emit(IPC_EVENT_CHANNEL, {}, event);
  assert.equal(seen.length, 1);
  assert.equal(emitter.listenerCount(IPC_EVENT_CHANNEL), 0);
});

test('the bridge is frozen and has exactly invoke and subscribe', () => {
  const api = createControlBridge(fakeIpc(() => null).ipc);
  assert.deepEqual(Object.keys(api).sort(), ['invoke', 'subscribe']);
  assert.ok(Object.isFrozen(api));
});
