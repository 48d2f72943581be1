/**
 * The rendezvous socket against a plain ws server on loopback: the upgrade request, how refusals
 * are classified, the size limit, keepalive on a manual clock, and that no Close frame is ever
 * sent (the server sees 1006 in every case).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../core/log.ts';
import { ManualClock } from '../testkit/remote/manual-clock.ts';
import { PONG_TIMEOUT_MS, RendezvousSocket, type ConnectResult, type RendezvousOptions } from './rendezvous-socket.ts';

interface TestServer {
  url: string;
  upgrades: IncomingMessage[];
  sockets: WebSocket[];
  /** Resolves with the close code the server saw for its n-th socket. */
  closeCode(index: number): Promise<number>;
  close(): Promise<void>;
}

async function startServer(options: { answer?: (req: IncomingMessage, socket: Duplex) => boolean; autoPong?: boolean } = {}): Promise<TestServer> {
  const server: Server = createServer();
  const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true });
  const upgrades: IncomingMessage[] = [];
  const sockets: WebSocket[] = [];
  const codes: Array<Promise<number>> = [];
  const raw: Duplex[] = [];
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req);
    raw.push(socket);
    if (options.answer?.(req, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.push(ws);
      codes.push(new Promise((resolve) => ws.on('close', (code) => resolve(code))));
      ws.on('error', () => {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}/rendezvous/env?role=environment&sig=abc`,
    upgrades,
    sockets,
    async closeCode(index) {
      for (let i = 0; i < 200 && !codes[index]; i++) await new Promise((r) => setTimeout(r, 10));
      return codes[index]!;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      for (const socket of raw) socket.destroy();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const connect = (options: Partial<RendezvousOptions> & { url: string }) => RendezvousSocket.connect({ log: silentLogger, env: {}, ...options });

function opened(result: ConnectResult): RendezvousSocket {
  assert.ok(result.ok, result.ok ? '' : result.error);
  return result.socket;
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('rendezvous socket', () => {
  test('upgrade: x-request-id per attempt, env headers, no subprotocol, extensions or credentials', async () => {
    const server = await startServer();
    try {
      const env = { OPENAI_CLUSTER: 'cluster-1', DD_SERVICE: 'svc', CODEX_API_KEY: 'sk-secret' };
      opened(await connect({ url: server.url, env })).drop();
      opened(await connect({ url: server.url, env: {} })).drop();
      const [first, second] = server.upgrades;
      assert.match(first!.headers['x-request-id'] as string, /^req_[0-9a-f]{32}$/);
      assert.notEqual(first!.headers['x-request-id'], second!.headers['x-request-id']);
      assert.equal(first!.headers['x-cluster-name'], 'cluster-1');
      assert.equal(first!.headers['x-openai-internal-caller'], 'svc');
      assert.equal(second!.headers['x-cluster-name'], undefined);
      // 0.169.0's order (and tungstenite's spelling) on the wire
      assert.deepEqual(
        first!.rawHeaders.filter((_, i) => i % 2 === 0),
        ['Host', 'Connection', 'Upgrade', 'Sec-WebSocket-Version', 'Sec-WebSocket-Key', 'x-request-id', 'x-openai-internal-caller', 'x-cluster-name'],
      );
      for (const req of [first!, second!]) {
        assert.equal(req.headers['sec-websocket-protocol'], undefined);
        assert.equal(req.headers['sec-websocket-extensions'], undefined);
        assert.equal(req.headers.authorization, undefined);
        assert.equal(req.url, '/rendezvous/env?role=environment&sig=abc');
      }
    } finally {
      await server.close();
    }
  });

  test('a 4xx upgrade answer is a rejection; 5xx, 3xx, timeouts, refusals and http:// are plain failures', async () => {
    const statuses = [400, 403, 404, 409, 429, 500, 503, 302];
    let next = 0;
    const server = await startServer({
      answer: (req, socket) => {
        if (req.url?.includes('silent')) return true; // never answers: handshake timeout
        const status = statuses[next++]!;
        socket.end(`HTTP/1.1 ${status} X\r\nlocation: /elsewhere\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
        return true;
      },
    });
    try {
      const results: Array<[number | null, boolean]> = [];
      for (const _ of statuses) {
        const result = await connect({ url: server.url });
        assert.ok(!result.ok);
        results.push([result.status, result.rejected]);
      }
      assert.deepEqual(results, [[400, true], [403, true], [404, true], [409, true], [429, true], [500, false], [503, false], [302, false]]);
      assert.equal(server.upgrades.length, statuses.length, 'the redirect was not followed');
      const silent = await connect({ url: server.url.replace('env?', 'silent?'), handshakeTimeoutMs: 200 });
      assert.ok(!silent.ok && !silent.rejected);
      const refused = await connect({ url: 'ws://127.0.0.1:9/x' });
      assert.ok(!refused.ok && !refused.rejected);
      const http = await connect({ url: server.url.replace('ws:', 'http:') });
      assert.ok(!http.ok && !http.rejected);
      assert.match(http.error, /scheme/);
    } finally {
      await server.close();
    }
  });

  test('binary and text messages reach the handler; 256 KiB passes, one byte more drops the socket without a Close frame', async () => {
    const server = await startServer();
    try {
      const socket = opened(await connect({ url: server.url }));
      const got: Array<[number, boolean]> = [];
      socket.onMessage((data, isBinary) => got.push([data.length, isBinary]));
      const ended = new Promise((resolve) => socket.onClose(resolve));
      await until(() => server.sockets.length === 1, 'server socket');
      server.sockets[0]!.send(Buffer.alloc(256 * 1024), { binary: true });
      server.sockets[0]!.send('text');
      await until(() => got.length === 2, 'two messages');
      assert.deepEqual(got, [[256 * 1024, true], [4, false]]);
      server.sockets[0]!.send(Buffer.alloc(256 * 1024 + 1), { binary: true });
      assert.equal(await ended, 'read_error');
      assert.equal(await server.closeCode(0), 1006);
      assert.equal(socket.isOpen, false);
    } finally {
      await server.close();
    }
  });

  test('a peer Close frame is not answered: the TCP connection is just dropped', async () => {
    const server = await startServer();
    try {
      const socket = opened(await connect({ url: server.url }));
      const ended = new Promise((resolve) => socket.onClose(resolve));
      await until(() => server.sockets.length === 1, 'server socket');
      server.sockets[0]!.close(1000, 'bye');
      assert.equal(await ended, 'peer_close');
      assert.equal(await server.closeCode(0), 1006, 'no Close frame came back');
    } finally {
      await server.close();
    }
  });

  test('drop() sends no Close frame', async () => {
    const server = await startServer();
    try {
      const socket = opened(await connect({ url: server.url }));
      await until(() => server.sockets.length === 1, 'server socket');
      socket.drop();
      assert.equal(await server.closeCode(0), 1006);
    } finally {
      await server.close();
    }
  });

  test('keepalive: a ping every 30 s while none is outstanding; no pong within 60 s drops the socket', async () => {
    const server = await startServer({ autoPong: false });
    try {
      const clock = new ManualClock();
      const socket = opened(await connect({ url: server.url, clock }));
      const ended = new Promise((resolve) => socket.onClose(resolve));
      await until(() => server.sockets.length === 1, 'server socket');
      const pings: Buffer[] = [];
      server.sockets[0]!.on('ping', (data) => pings.push(data));
      clock.advance(29_999);
      assert.equal(socket.pingsSent, 0);
      clock.advance(1);
      await until(() => pings.length === 1, 'first ping');
      assert.equal(pings[0]!.length, 0, 'empty ping payload');
      clock.advance(30_000);
      clock.advance(29_999);
      assert.equal(socket.pingsSent, 1, 'no new ping while one is outstanding');
      assert.equal(socket.isOpen, true);
      clock.advance(1);
      assert.equal(await ended, 'pong_timeout');
      assert.equal(await server.closeCode(0), 1006);
    } finally {
      await server.close();
    }
  });

  test('keepalive: a pong clears the deadline; pings from the rendezvous are answered', async () => {
    const server = await startServer({ autoPong: true });
    try {
      const clock = new ManualClock();
      const socket = opened(await connect({ url: server.url, clock }));
      await until(() => server.sockets.length === 1, 'server socket');
      const peer = server.sockets[0]!;
      let pongs = 0;
      peer.on('pong', (data) => {
        assert.equal(data.toString(), 'are-you-there');
        pongs++;
      });
      peer.ping('are-you-there');
      await until(() => pongs === 1, 'pong from the executor');
      for (let i = 1; i <= 4; i++) {
        let pinged = false;
        peer.once('ping', () => (pinged = true));
        clock.advance(30_000);
        await until(() => pinged, `ping ${i}`);
        await new Promise((r) => setTimeout(r, 30)); // the pong travels back
      }
      assert.equal(socket.pingsSent, 4);
      assert.equal(socket.isOpen, true);
      socket.drop();
    } finally {
      await server.close();
    }
  });

  test('a write still unflushed at the pong deadline drops the socket as write_error; one that drains does not', async () => {
    const server = await startServer();
    try {
      const clock = new ManualClock();
      const chunk = new Uint8Array(256 * 1024);
      // Pings would only add their own deadlines; keep them out of the way.
      const socket = opened(await connect({ url: server.url, clock, pingIntervalMs: 10 * PONG_TIMEOUT_MS }));
      const ended = new Promise((resolve) => socket.onClose(resolve));
      await until(() => server.sockets.length === 1, 'server socket');
      const peer = (server.sockets[0] as unknown as { _socket: Duplex })._socket;

      // The rendezvous reads along: written frames flush, time may pass freely.
      for (let i = 0; i < 8; i++) socket.send(chunk);
      await until(() => socket.unflushedWrites === 0, 'writes flushed');
      clock.advance(PONG_TIMEOUT_MS * 2);
      assert.equal(socket.isOpen, true);

      // It stops reading: 32 MiB cannot all leave the process, a write stays pending.
      peer.pause();
      for (let i = 0; i < 128; i++) socket.send(chunk);
      await until(() => socket.bufferedAmount > 0, 'a blocked write');
      assert.ok(socket.unflushedWrites > 0);
      clock.advance(PONG_TIMEOUT_MS - 1);
      assert.equal(socket.isOpen, true);
      clock.advance(1);
      assert.equal(await ended, 'write_error');
    } finally {
      await server.close();
    }
  });
});
