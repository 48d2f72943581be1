import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import type { RuntimeEvent } from '../control/contract.ts';
import { WsControlClient, type WebSocketConstructor } from '../control/ws-control-client.ts';
import { EventRecorder } from './test-support.ts';

const script = fileURLToPath(new URL('./demo-runtime.ts', import.meta.url));

test('the demo runtime: stdin drives the fake link, the dashboard client sees it', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  lines.on('line', (l) => {
    queue.push(l);
    wake?.();
  });
  const nextLine = async (): Promise<any> => {
    while (queue.length === 0) await new Promise<void>((r) => (wake = r));
    return JSON.parse(queue.shift()!);
  };
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const info = await nextLine();
    assert.match(info.listenUrl, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const client = await WsControlClient.connect({ url: info.controlUrl, token: info.token, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const rec = new EventRecorder(client);
    await client.invoke('getSnapshot', undefined);

    child.stdin!.write('{"registration":{"status":"online"}}\n');
    assert.match((await nextLine()).error, /connect/);
    child.stdin!.write('{"connect":true}\n{"registration":{"status":"online","registrationId":"r-1"}}\n');
    assert.deepEqual(await nextLine(), { ok: true });
    assert.deepEqual(await nextLine(), { ok: true });
    await rec.seen((e: RuntimeEvent) => e.type === 'registration' && e.registration.status === 'online');
    assert.equal((await client.invoke('getSnapshot', undefined)).registration.registrationId, 'r-1');
    child.stdin!.write('{"stream":{"streamId":"s1","state":"open","bytesIn":1,"bytesOut":2,"openedAtMs":1,"closedAtMs":null,"endReason":null,"sessionId":null}}\n');
    assert.deepEqual(await nextLine(), { ok: true });
    assert.deepEqual(await client.invoke('resetStream', { streamId: 's1' }), { reset: true });
    client.close();
    child.stdin!.end();
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
