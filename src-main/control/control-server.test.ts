import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX, type RuntimeEvent, type RuntimeSnapshot } from './contract.ts';
import { ControlError } from './control-error.ts';
import { ControlServer, MAX_CONTROL_CLIENTS, type ControlTarget } from './control-server.ts';
import { WsControlClient, parseDashboardUrl, type WebSocketConstructor } from './ws-control-client.ts';
import { ExecutorRuntime } from '../runtime/executor-runtime.ts';
import { SettingsStore } from '../runtime/settings-store.ts';
import { until } from '../runtime/test-support.ts';
import { silentLogger } from '../core/log.ts';

function makeRuntime(): ExecutorRuntime {
  return new ExecutorRuntime({
    host: 'headless',
    version: '0.0.0-test',
    settings: new SettingsStore({ dir: null }),
    listen: { host: '127.0.0.1', port: 0, auth: { mode: 'none' } },
  });
}

function rendererDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'exec-desk-renderer-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/assets/app.js"></script>');
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log("app")');
  writeFileSync(join(dir, '.secret'), 'hidden');
  return dir;
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Attempts an upgrade and reports the HTTP status (101 when it succeeded). */
function upgradeStatus(url: string, protocols: string[], headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode!);
      res.resume();
    });
    ws.once('error', () => undefined);
  });
}

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

test('the websocket needs the token (401) and the server\'s own Origin or none (403), before the upgrade', async () => {
  const runtime = makeRuntime();
  const server = await ControlServer.start({ target: runtime, log: silentLogger, rendererDir: rendererDir() });
  try {
    assert.ok(Buffer.from(server.token, 'base64url').length >= 32);
    assert.match(server.dashboardUrl, new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/#token=[A-Za-z0-9_-]{43}$`));
    assert.deepEqual(parseDashboardUrl(server.dashboardUrl), { url: server.controlUrl, token: server.token });
    const good = [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + server.token];
    assert.equal(await upgradeStatus(server.controlUrl, good), 101);
    assert.equal(await upgradeStatus(server.controlUrl, good, { origin: server.origin }), 101);
    assert.equal(await upgradeStatus(server.controlUrl, [CONTROL_WS_PROTOCOL]), 401);
    assert.equal(await upgradeStatus(server.controlUrl, [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + 'x'.repeat(43)]), 401);
    assert.equal(await upgradeStatus(server.controlUrl, [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + server.token.slice(1)]), 401);
    assert.equal(await upgradeStatus(`${server.controlUrl}?token=${server.token}`, [CONTROL_WS_PROTOCOL]), 401, 'the query is not a way in');
    assert.equal(await upgradeStatus(server.controlUrl, good, { origin: 'http://evil.example' }), 403);
    assert.equal(await upgradeStatus(server.controlUrl, good, { origin: `http://localhost:${server.port}` }), 403);
    assert.equal(await upgradeStatus(server.controlUrl, good, { origin: 'null' }), 403);
    assert.equal(await upgradeStatus(server.controlUrl.replace('/control', '/'), good), 404);

    // The client offers the token; the server selects only the control protocol.
    const client = await WsControlClient.connect({ url: server.controlUrl, token: server.token, WebSocket: NodeWebSocket });
    const snap = await client.invoke('getSnapshot', undefined);
    assert.equal(snap.schemaVersion, 1);
    client.close();
    await assert.rejects(
      WsControlClient.connect({ url: server.controlUrl, token: 'wrong', WebSocket: NodeWebSocket }),
      (err: unknown) => err instanceof ControlError && err.code === 'unavailable',
    );
  } finally {
    await server.close();
    await runtime.shutdown();
  }
});

test('binding anything but 127.0.0.1 is refused', async () => {
  const runtime = makeRuntime();
  try {
    for (const host of ['0.0.0.0', '::', '::1', 'localhost', '192.168.1.10']) {
      await assert.rejects(ControlServer.start({ target: runtime, log: silentLogger, host }), /binds 127\.0\.0\.1 only/, host);
    }
    await assert.rejects(ControlServer.start({ target: runtime, log: silentLogger, port: 70000 }), /invalid control port/);
  } finally {
    await runtime.shutdown();
  }
});

test('messages: bad JSON, unknown commands and bad params get error replies and the socket stays usable; events after subscribe', async () => {
  const runtime = makeRuntime();
  const server = await ControlServer.start({ target: runtime, log: silentLogger, rendererDir: rendererDir() });
  const ws = new WebSocket(server.controlUrl, [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + server.token]);
  const received: any[] = [];
  const waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    received.push(m);
    for (const w of waiters.splice(0)) (w.match(m) ? w.resolve(m) : waiters.push(w));
  });
  const next = (match: (m: any) => boolean) =>
    new Promise<any>((resolve, reject) => {
      const hit = received.find(match);
      if (hit) return resolve(hit);
      const timer = setTimeout(() => reject(new Error('no such message')), 5000);
      waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  try {
    await new Promise((r) => ws.once('open', r));
    assert.equal(ws.protocol, CONTROL_WS_PROTOCOL);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(received, [], 'nothing is sent until asked');

    ws.send('{not json');
    assert.equal((await next((m) => m.error?.message?.includes('not valid JSON'))).id, 0);
    ws.send('[1,2]');
    assert.equal((await next((m) => m.error?.message?.includes('JSON object'))).error.code, 'invalid_params');
    ws.send(JSON.stringify({ command: 'getSnapshot' }));
    assert.match((await next((m) => m.error?.message?.includes('positive integer id'))).error.code, /invalid_params/);
    ws.send(JSON.stringify({ id: 1, command: 'selfDestruct' }));
    assert.equal((await next((m) => m.id === 1)).error.code, 'unknown_command');
    ws.send(JSON.stringify({ id: 2, command: 'terminateProcess', params: { sessionId: 1 } }));
    assert.equal((await next((m) => m.id === 2)).error.code, 'invalid_params');
    ws.send(JSON.stringify({ id: 3, subscribe: 'yes' }));
    assert.equal((await next((m) => m.id === 3)).error.code, 'invalid_params');
    ws.send(Buffer.from('{"id":4,"command":"getSnapshot"}'), { binary: true });
    assert.match((await next((m) => m.error?.message?.includes('text frames'))).error.code, /invalid_params/);

    ws.send(JSON.stringify({ id: 5, command: 'getSnapshot' }));
    const snap = (await next((m) => m.id === 5)).result as RuntimeSnapshot;
    assert.equal(snap.host, 'headless');
    assert.ok(!received.some((m) => 'event' in m), 'no events before subscribing');

    ws.send(JSON.stringify({ id: 6, subscribe: true }));
    assert.deepEqual((await next((m) => m.id === 6)).result, { subscribed: true });
    ws.send(JSON.stringify({ id: 7, command: 'startListener' }));
    const listening = await next((m) => m.event?.type === 'listener' && m.event.listener.status === 'listening');
    assert.match(listening.event.listener.url, /^ws:\/\/127\.0\.0\.1:/);
    assert.equal((await next((m) => m.id === 7)).result.status, 'listening');

    ws.send(JSON.stringify({ id: 8, subscribe: false }));
    await next((m) => m.id === 8);
    const count = received.filter((m) => 'event' in m).length;
    runtime.log.info('after unsubscribe');
    ws.send(JSON.stringify({ id: 9, command: 'getSnapshot' }));
    await next((m) => m.id === 9);
    assert.equal(received.filter((m) => 'event' in m).length, count, 'no events after unsubscribing');

    // Over the size limit: the socket is closed (1009), the server goes on.
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.send(JSON.stringify({ id: 10, command: 'getSnapshot', params: 'x'.repeat(1024 * 1024 + 10) }));
    assert.equal(await closed, 1009);
    const client = await WsControlClient.connect({ url: server.controlUrl, token: server.token, WebSocket: NodeWebSocket });
    assert.equal((await client.invoke('getSnapshot', undefined)).listener.status, 'listening');
    client.close();
  } finally {
    ws.terminate();
    await server.close();
    await runtime.shutdown();
  }
});

test('the client: invoke rejects with ControlError, events reach every subscriber, close rejects pending calls', async () => {
  let release!: () => void;
  let called!: () => void;
  const dispatched = new Promise<void>((r) => (called = r));
  const listeners = new Set<(e: RuntimeEvent) => void>();
  const target: ControlTarget = {
    subscribe: (l) => (listeners.add(l), () => void listeners.delete(l)),
    dispatch: async (command) => {
      if (command === 'getSnapshot') return { schemaVersion: 1 };
      if (command === 'stopListener') {
        called();
        return new Promise<void>((r) => (release = r));
      }
      throw new ControlError('not_found', `nothing for ${command}`);
    },
  };
  const server = await ControlServer.start({ target, log: silentLogger, rendererDir: rendererDir() });
  try {
    const a = await WsControlClient.connect({ url: server.controlUrl, token: server.token, WebSocket: NodeWebSocket });
    const b = await WsControlClient.connect({ url: server.controlUrl, token: server.token, WebSocket: NodeWebSocket });
    await assert.rejects(a.invoke('closeSession', { sessionId: 'x' }), (err: unknown) => err instanceof ControlError && err.code === 'not_found' && err.message === 'nothing for closeSession');
    const gotA: RuntimeEvent[] = [];
    const gotB: RuntimeEvent[] = [];
    a.subscribe((e) => gotA.push(e));
    b.subscribe((e) => gotB.push(e));
    await a.invoke('getSnapshot', undefined); // the subscribe message went first on the same socket
    await b.invoke('getSnapshot', undefined);
    const event: RuntimeEvent = { type: 'sessionRemoved', sessionId: 's-1' };
    for (const l of listeners) l(event);
    await a.invoke('getSnapshot', undefined);
    await b.invoke('getSnapshot', undefined);
    assert.deepEqual(gotA, [event]);
    assert.deepEqual(gotB, [event]);

    const pending = a.invoke('stopListener', undefined);
    let closedTold = false;
    a.onClose(() => (closedTold = true));
    await dispatched;
    await server.close();
    await assert.rejects(pending, (err: unknown) => err instanceof ControlError && err.code === 'unavailable');
    assert.ok(closedTold && a.closed);
    await assert.rejects(a.invoke('getSnapshot', undefined), (err: unknown) => err instanceof ControlError && err.code === 'unavailable');
    release();
  } finally {
    await server.close();
  }
});

test('serves the renderer with strict security headers, refuses traversal and foreign Hosts, 503 when not built', async () => {
  const runtime = makeRuntime();
  const dir = rendererDir();
  symlinkSync('/etc/hostname', join(dir, 'assets', 'escape.txt'));
  const server = await ControlServer.start({ target: runtime, log: silentLogger, rendererDir: dir });
  const empty = mkdtempSync(join(tmpdir(), 'exec-desk-empty-'));
  const unbuilt = await ControlServer.start({ target: runtime, log: silentLogger, rendererDir: join(empty, 'missing') });
  try {
    const index = await get(server.port, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /assets\/app\.js/);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(index.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://127\\.0\\.0\\.1:${server.port}(;|$)`));
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'));
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['referrer-policy'], 'no-referrer');

    const js = await get(server.port, '/assets/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    for (const path of ['/../package.json', '/assets/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/.secret', '/assets/escape.txt', '/assets', '/nope.js']) {
      assert.equal((await get(server.port, path)).status, 404, path);
    }
    assert.equal((await get(server.port, '/', { host: `evil.example:${server.port}` })).status, 421, 'DNS rebinding guard');
    assert.equal((await get(server.port, '/control')).status, 426);

    const missing = await get(unbuilt.port, '/');
    assert.equal(missing.status, 503);
    assert.match(missing.body, /dashboard is not built/);
    assert.match(missing.body, /electron-vite build/);
    assert.ok(!/<script|style=/.test(missing.body));
    assert.match(String(missing.headers['content-security-policy']), /default-src 'self'/);
  } finally {
    await Promise.all([server.close(), unbuilt.close()]);
    await runtime.shutdown();
    rmSync(dir, { recursive: true, force: true });
    rmSync(empty, { recursive: true, force: true });
  }
});

test('more control sockets than the limit are refused with 503', async () => {
  const runtime = makeRuntime();
  const server = await ControlServer.start({ target: runtime, log: silentLogger, rendererDir: rendererDir() });
  const clients: WsControlClient[] = [];
  try {
    for (let i = 0; i < MAX_CONTROL_CLIENTS; i++) {
      clients.push(await WsControlClient.connect({ url: server.controlUrl, token: server.token, WebSocket: NodeWebSocket }));
    }
    assert.equal(await upgradeStatus(server.controlUrl, [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + server.token]), 503);
    clients.pop()!.close();
    await until(() => server.clientCount < MAX_CONTROL_CLIENTS, 'the server saw the close');
    assert.equal(await upgradeStatus(server.controlUrl, [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + server.token]), 101);
  } finally {
    for (const c of clients) c.close();
    await server.close();
    await runtime.shutdown();
  }
});
