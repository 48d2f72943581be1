import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { ExecServer } from '../../core/exec-server.ts';
import { silentLogger } from '../../core/log.ts';
import { LocalListener } from './http-listener.ts';
import type { WsAuthConfig } from './ws-auth.ts';
import { RpcClient } from '../../testkit/rpc-client.ts';

async function start(auth: WsAuthConfig = { mode: 'none' }, pingIntervalMs?: number) {
  const server = new ExecServer({ log: silentLogger });
  const listener = new LocalListener({ host: '127.0.0.1', port: 0, auth, log: silentLogger, onConnection: (p) => server.serve(p), pingIntervalMs });
  const url = await listener.listen();
  const stop = async () => {
    await listener.close();
    await server.shutdown();
  };
  return { url, server, listener, stop, base: url.replace('ws://', 'http://') };
}

function http(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode!, body: '', headers: res.headers });
    });
    req.end();
  });
}

const upgradeHeaders = { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13' };

test('HTTP answers: readyz, 404, 405, 400 texts, 403 on Origin', async () => {
  const s = await start();
  after(s.stop);
  assert.deepEqual(await http(s.base, 'GET', '/readyz?probe=1').then((r) => [r.status, r.body, r.headers['content-length']]), [200, '', '0']);
  assert.equal((await http(s.base, 'POST', '/readyz')).status, 405);
  assert.equal((await http(s.base, 'GET', '/healthz')).status, 404);
  const plain = await http(s.base, 'GET', '/');
  assert.deepEqual([plain.status, plain.body, plain.headers['content-type']], [400, "Connection header did not include 'upgrade'", 'text/plain; charset=utf-8']);
  assert.deepEqual(await http(s.base, 'POST', '/').then((r) => [r.status, r.body]), [405, 'Request method must be `GET`']);
  for (const path of ['/readyz', '/', '/nope']) {
    assert.equal((await http(s.base, 'GET', path, { Origin: 'http://127.0.0.1' })).status, 403, path);
  }
  const upgradeWithOrigin = await http(s.base, 'GET', '/', { ...upgradeHeaders, Origin: 'http://127.0.0.1' });
  assert.equal(upgradeWithOrigin.status, 403);
  const badVersion = await http(s.base, 'GET', '/', { ...upgradeHeaders, 'Sec-WebSocket-Version': '12' });
  assert.deepEqual([badVersion.status, badVersion.body], [400, "`Sec-WebSocket-Version` header did not include '13'"]);
  const upgradeOnOtherPath = await http(s.base, 'GET', '/foo', upgradeHeaders);
  assert.equal(upgradeOnOtherPath.status, 404);
});

test('capability-token auth: 401 reasons, Origin beats a valid token, a good token connects', async () => {
  const s = await start({ mode: 'capability-token', tokenSha256: createHash('sha256').update('sekrit').digest() });
  after(s.stop);
  const attempt = (headers: Record<string, string>) => RpcClient.connect(s.url, { headers }).then(
    (c) => (c.terminate(), 'connected'),
    (e) => `${e.status} ${e.body}`,
  );
  assert.equal(await attempt({}), '401 missing websocket bearer token');
  assert.equal(await attempt({ Authorization: 'Basic bXk6dG9rZW4=' }), '401 invalid authorization header');
  assert.equal(await attempt({ Authorization: 'Bearer wrong' }), '401 invalid websocket bearer token');
  assert.equal(await attempt({ Authorization: 'bearer  sekrit ' }), 'connected');
  assert.equal(await attempt({ Authorization: 'Bearer sekrit', Origin: 'http://127.0.0.1' }), '403 ');
  assert.equal((await http(s.base, 'GET', '/readyz')).status, 200, 'readyz needs no token');
});

test('text and binary frames both carry JSON-RPC; replies are text frames', async () => {
  const s = await start();
  after(s.stop);
  const client = await RpcClient.connect(s.url);
  client.sendRaw(JSON.stringify({ id: 1, method: 'initialize', params: { clientName: 'bin' } }), true);
  await client.waitFor((m) => m.id === 1);
  client.sendRaw('{"id":2,"method":"environment/status"}');
  await client.waitFor((m) => m.id === 2);
  assert.deepEqual(client.frames.map((f) => f.binary), [false, false]);
  assert.ok(!client.frames.some((f) => f.text.includes('jsonrpc')));
  client.terminate();
});

test('a client close frame is answered by dropping TCP (1006), as the reference does', async () => {
  const s = await start();
  after(s.stop);
  const client = await RpcClient.connect(s.url);
  await client.handshake();
  client.close();
  assert.equal(await client.closed(), 1006);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(s.server.sessions.list()[0]!.state, 'detached');
});

test('a single frame over 16 MiB drops the connection; a 20 MiB message in 1 MiB fragments is fine', async () => {
  const s = await start();
  after(s.stop);
  const big = await RpcClient.connect(s.url);
  await big.handshake();
  const payload = JSON.stringify({ id: 5, method: 'environment/status', params: { pad: 'x'.repeat(17 * 1024 * 1024) } });
  big.sendRaw(payload);
  assert.equal(await big.closed(), 1006);

  const fragmented = await RpcClient.connect(s.url);
  await fragmented.handshake();
  const body = Buffer.from(JSON.stringify({ id: 6, method: 'process/write', params: { processId: 'none', chunk: Buffer.alloc(15 * 1024 * 1024).toString('base64'), writeId: 'w' } }));
  const ws = fragmented.socket as WebSocket;
  const step = 1024 * 1024;
  for (let i = 0; i < body.length; i += step) ws.send(body.subarray(i, i + step), { fin: i + step >= body.length, binary: false });
  const reply = await fragmented.waitFor((m) => m.id === 6, 20_000);
  assert.deepEqual(reply.result, { status: 'unknownProcess' });
  fragmented.terminate();
});

test('the server pings every connection on its interval', async () => {
  const s = await start({ mode: 'none' }, 50);
  after(s.stop);
  const client = await RpcClient.connect(s.url);
  const pinged = await new Promise<boolean>((resolve) => {
    client.socket.once('ping', () => resolve(true));
    setTimeout(() => resolve(false), 2000);
  });
  assert.equal(pinged, true);
  client.terminate();
});

test('invalid UTF-8 in a text frame drops the connection; in a binary frame it is a parse error', async () => {
  const s = await start();
  after(s.stop);
  const binary = await RpcClient.connect(s.url);
  binary.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), true);
  const reply = await binary.waitFor((m) => m.id === -1);
  assert.match(reply.error!.message, /^failed to parse websocket JSON-RPC message from exec-server websocket 127\.0\.0\.1:\d+: invalid unicode code point/);
  binary.terminate();
  const text = await RpcClient.connect(s.url);
  // ws refuses to send invalid UTF-8 as text, so write the frame by hand (masked, opcode 1)
  const socket = (text.socket as any)._socket as import('node:net').Socket;
  socket.write(Buffer.from([0x81, 0x80 | 3, 0, 0, 0, 0, 0xff, 0xfe, 0xfd]));
  assert.equal(await text.closed(), 1006);
});

test('flow control: a client that stops reading stalls a flooding child; nothing is lost when it resumes', async () => {
  const s = await start();
  after(s.stop);
  const client = await RpcClient.connect(s.url);
  await client.handshake();
  const total = 64 * 1024 * 1024;
  let received = 0;
  client.socket.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.method === 'process/output') received += Buffer.from(m.params.chunk, 'base64').length;
  });
  await client.call('process/start', {
    processId: 'flood',
    argv: ['head', '-c', String(total), '/dev/zero'],
    cwd: 'file:///tmp',
    env: { PATH: '/usr/bin:/bin' },
    tty: false,
  });
  const tcp = (client.socket as any)._socket as import('node:net').Socket;
  tcp.pause(); // the client stops reading
  await new Promise((r) => setTimeout(r, 1500));
  const session = s.server.sessions.all()[0]!;
  assert.equal(session.processes.list()[0]!.state, 'running', 'the child is blocked, not finished');
  const rssWhilePaused = process.memoryUsage().rss;
  tcp.resume();
  await client.waitForNotification('process/closed', () => true, 30_000);
  assert.equal(received, total, 'every byte arrived');
  assert.ok(rssWhilePaused < 1024 * 1024 * 1024, 'memory stayed bounded while the client was stalled');
  client.terminate();
});
