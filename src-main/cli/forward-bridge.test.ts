import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../core/log.ts';
import { MemoryPipe } from '../testkit/memory-pipe.ts';
import { bridgeToExecServer, FORWARD_SCHEME_REASON, forwardingServer, parseForwardUrl } from './forward-bridge.ts';

test('parseForwardUrl accepts ws:// and wss:// and refuses the rest with the reference reasons', () => {
  assert.equal(parseForwardUrl('ws://127.0.0.1:1').href, 'ws://127.0.0.1:1/');
  assert.equal(parseForwardUrl('wss://example.test/path?q=1').href, 'wss://example.test/path?q=1');
  // Observed on codex exec-server 0.169.0 (`forward --connect <this>`).
  const reasons: Array<[string, string]> = [
    ['notaurl', 'relative URL without a base'],
    ['', 'relative URL without a base'],
    ['http://127.0.0.1:1', FORWARD_SCHEME_REASON],
    ['ftp://x', FORWARD_SCHEME_REASON],
    ['ws://', 'empty host'],
    ['ws://[::1', 'invalid IPv6 address'],
    ['ws://h:99999', 'invalid port number'],
    ['ws://a b', 'invalid international domain name'],
  ];
  for (const [text, reason] of reasons) {
    assert.throws(() => parseForwardUrl(text), { message: `failed to configure exec-server websocket: ${reason}` }, text);
  }
});

async function destination(): Promise<{ url: URL; server: WebSocketServer; connections: WebSocket[]; close(): Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const connections: WebSocket[] = [];
  server.on('connection', (ws) => {
    connections.push(ws);
    // An "exec-server" that answers every request with its own id and the frame type it got.
    ws.on('message', (data, isBinary) => {
      const message = JSON.parse(data.toString());
      ws.send(JSON.stringify({ id: message.id, result: { echoed: message.method, binary: isBinary, connection: connections.indexOf(ws) } }));
    });
  });
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`ws://127.0.0.1:${port}`),
    server,
    connections,
    close: () => {
      for (const ws of server.clients) ws.terminate();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('each stream gets its own destination connection; messages flow both ways as text, early ones included', async () => {
  const dest = await destination();
  try {
    const server = forwardingServer(dest.url, silentLogger);
    const a = new MemoryPipe();
    const b = new MemoryPipe();
    assert.deepEqual(server.serve(a), { attachedSession: null, queuedMessages: 0 });
    server.serve(b);
    // Sent before the destination accepted: queued, then delivered in order.
    const first = a.request(1, 'initialize', {});
    const second = a.request(2, 'process/start', {});
    const other = b.request(7, 'initialize', {});
    assert.deepEqual((await first).result.echoed, 'initialize');
    assert.deepEqual((await second).result, { echoed: 'process/start', binary: false, connection: (await first).result.connection });
    assert.notEqual((await other).result.connection, (await first).result.connection);
    assert.equal(dest.connections.length, 2);
  } finally {
    await dest.close();
  }
});

test('the stream ending drops its destination connection, and the destination ending ends the stream', async () => {
  const dest = await destination();
  try {
    const a = new MemoryPipe();
    bridgeToExecServer(a, dest.url, silentLogger);
    await a.request(1, 'initialize', {});
    const dropped = new Promise<void>((resolve) => dest.connections[0]!.once('close', () => resolve()));
    a.close();
    await dropped;

    const b = new MemoryPipe();
    bridgeToExecServer(b, dest.url, silentLogger);
    await b.request(1, 'initialize', {});
    dest.connections[1]!.terminate();
    await new Promise<void>((resolve) => b.onClose(resolve));
    assert.equal(b.closed, true);
  } finally {
    await dest.close();
  }
});

test('an unreachable destination ends the stream', async () => {
  const dest = await destination();
  const url = dest.url;
  await dest.close();
  const pipe = new MemoryPipe();
  const ended = new Promise<void>((resolve) => pipe.onClose(resolve));
  bridgeToExecServer(pipe, url, silentLogger);
  pipe.deliver({ id: 1, method: 'initialize' });
  await ended;
  assert.equal(pipe.closed, true);
});
