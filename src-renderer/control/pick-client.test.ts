import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ControlApi } from '../../src-main/control/contract.ts';
import { controlSocketUrl, pickClientSource, tokenFromHash, type PageEnvironment } from './pick-client.ts';

class RecordingSocket {
  static opened: Array<{ url: string; protocols: string | string[] | undefined }> = [];
  readonly readyState = 0;
  constructor(url: string, protocols?: string | string[]) {
    RecordingSocket.opened.push({ url, protocols });
    queueMicrotask(() => this.listeners.get('error')?.({ message: 'refused' }));
  }
  private listeners = new Map<string, (e: any) => void>();
  addEventListener(type: string, listener: (e: any) => void) {
    this.listeners.set(type, listener);
  }
  send() {}
  close() {}
}

const location = { protocol: 'http:', host: '127.0.0.1:9000', hash: '#token=abc%2B1' };

test('tokenFromHash reads #token= and nothing else', () => {
  assert.equal(tokenFromHash('#token=abc%2B1'), 'abc+1');
  assert.equal(tokenFromHash('#x=1&token=t'), 't');
  assert.equal(tokenFromHash('#token='), null);
  assert.equal(tokenFromHash(''), null);
  assert.equal(controlSocketUrl(location), 'ws://127.0.0.1:9000/control');
});

test('prefers the preload bridge when present', async () => {
  const bridge = { invoke: async () => null, subscribe: () => () => {} } as unknown as ControlApi;
  const picked = pickClientSource({ execDesk: bridge, location, WebSocket: RecordingSocket });
  assert.equal(picked.kind, 'ipc');
  assert.equal(await picked.source(), bridge);
});

test('otherwise opens the control websocket of its own host with the token as subprotocol', async () => {
  RecordingSocket.opened = [];
  const picked = pickClientSource({ location, WebSocket: RecordingSocket } as PageEnvironment);
  assert.equal(picked.kind, 'websocket');
  await assert.rejects(picked.source(), { code: 'unavailable' });
  assert.equal(RecordingSocket.opened.length, 1);
  assert.equal(RecordingSocket.opened[0]?.url, 'ws://127.0.0.1:9000/control');
  assert.ok((RecordingSocket.opened[0]?.protocols as string[]).some((p) => p.endsWith('abc+1')));
});

test('without a token it explains what URL to use and opens nothing', async () => {
  RecordingSocket.opened = [];
  const picked = pickClientSource({ location: { ...location, hash: '' }, WebSocket: RecordingSocket });
  await assert.rejects(picked.source(), /#token=/);
  assert.equal(RecordingSocket.opened.length, 0);
});
