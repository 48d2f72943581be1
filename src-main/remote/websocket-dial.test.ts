import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { dialWebSocket, type DialOptions } from './websocket-dial.ts';

/** A loopback HTTP server whose upgrades `onUpgrade` answers. */
async function serve(onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer) => void) {
  const server: Server = createServer();
  const wss = new WebSocketServer({ noServer: true });
  // Upgraded sockets leave the server's bookkeeping: closed here so close() never waits on them.
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket, head) => {
    upgraded.add(socket);
    onUpgrade(req, socket, head, wss);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: new URL(`ws://127.0.0.1:${port}/socket`),
    close: async () => {
      wss.close();
      for (const socket of upgraded) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const base = (url: URL, extra: Partial<DialOptions> = {}): DialOptions => ({
  url,
  headers: { 'x-first': '1', 'x-second': '2' },
  maxPayload: 1024,
  handshakeTimeoutMs: 5000,
  env: {},
  ...extra,
});

test('a dial that opens: paused until resumed, so a message the peer sends at once is not lost; no deflate offered', async () => {
  let seen: IncomingMessage | null = null;
  const s = await serve((req, socket, head, wss) => {
    seen = req;
    wss.handleUpgrade(req, socket, head, (ws) => ws.send('hello first'));
  });
  try {
    const result = await dialWebSocket(base(s.url));
    assert.ok(result.ok);
    await new Promise((r) => setTimeout(r, 100)); // the greeting has arrived by now, held back
    const message = new Promise<string>((resolve) => result.ws.once('message', (data) => resolve(String(data))));
    result.ws.resume();
    assert.equal(await message, 'hello first');
    const req = seen as IncomingMessage | null;
    assert.equal(req?.headers['sec-websocket-extensions'], undefined);
    assert.deepEqual(req?.rawHeaders.filter((_, i) => i % 2 === 0).filter((n) => n.startsWith('x-')), ['x-first', 'x-second']);
    result.ws.terminate();
  } finally {
    await s.close();
  }
});

test('a refused upgrade reports its status; a redirect is not followed', async () => {
  for (const [status, extra] of [
    [403, ''],
    [302, 'location: http://127.0.0.1:1/elsewhere\r\n'],
  ] as const) {
    const s = await serve((_req, socket) => socket.end(`HTTP/1.1 ${status} X\r\n${extra}content-length: 0\r\n\r\n`));
    try {
      assert.deepEqual(await dialWebSocket(base(s.url)), { ok: false, status, error: `HTTP ${status}` });
    } finally {
      await s.close();
    }
  }
});

test('no answer within the deadline, a closed port, an abort and a bad URL all settle once with no status', async () => {
  const silent = await serve(() => undefined);
  try {
    const timedOut = await dialWebSocket(base(silent.url, { handshakeTimeoutMs: 200 }));
    assert.deepEqual([timedOut.ok, !timedOut.ok && timedOut.status], [false, null]);
    assert.match(!timedOut.ok ? timedOut.error : '', /timed out/i);

    const abort = new AbortController();
    const pending = dialWebSocket(base(silent.url, { signal: abort.signal }));
    abort.abort();
    assert.deepEqual(await pending, { ok: false, status: null, error: 'aborted' });
    assert.deepEqual(await dialWebSocket(base(silent.url, { signal: AbortSignal.abort() })), { ok: false, status: null, error: 'aborted' });
  } finally {
    await silent.close();
  }
  const refused = await dialWebSocket(base(new URL('ws://127.0.0.1:1/')));
  assert.deepEqual([refused.ok, !refused.ok && refused.status], [false, null]);
  assert.match(!refused.ok ? refused.error : '', /ECONNREFUSED/);
  const bad = await dialWebSocket(base(new URL('ftp://127.0.0.1/')));
  assert.deepEqual([bad.ok, !bad.ok && bad.status], [false, null]);
});
