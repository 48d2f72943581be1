import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { parseDashboardUrl, WsControlClient, type WebSocketConstructor } from '../control/ws-control-client.ts';
import { discoveryPath } from '../runtime/instance-discovery.ts';
import { FakeRegistry } from '../testkit/remote/fake-registry.ts';
import { until } from '../runtime/test-support.ts';
import { launch, runCli } from './headless-test-support.ts';

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'exec-desk-headless-'));
}

test('--dashboard: stdout is exactly the listen URL line; the dashboard URL goes to stderr and serves the page', async () => {
  const home = tempHome();
  const instance = launch(['--listen', 'ws://127.0.0.1:0', '--dashboard'], { ...process.env, EXEC_DESK_HOME: home });
  try {
    const url = await instance.firstLine;
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    const dashboard = await instance.dashboardUrl;
    assert.match(dashboard, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    await until(() => existsSync(discoveryPath(home)), 'discovery file');
    const page = await fetch(dashboard.split('#')[0]!);
    assert.ok(page.status === 200 || page.status === 503, `status ${page.status}`);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const token = dashboard.split('#token=')[1]!;
    assert.ok(!/INFO|WARN|ERROR/.test(instance.stderr().split('\n').filter((l) => l.includes(token)).join('')), 'the token is never in a log line');
    assert.equal(await instance.stop('SIGTERM'), 0);
    assert.equal(instance.stdout(), `${url}\n`, 'nothing else on stdout');
  } finally {
    await instance.stop('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
});

test('a bare reference-style run starts no control server and writes no file', async () => {
  const home = tempHome();
  const instance = launch(['--listen', 'ws://127.0.0.1:0'], { ...process.env, EXEC_DESK_HOME: home });
  try {
    await instance.firstLine;
    const status = await runCli(['status'], { ...process.env, EXEC_DESK_HOME: home });
    assert.equal(status.code, 1);
    assert.ok(!existsSync(discoveryPath(home)));
    assert.ok(!instance.stderr().includes('dashboard'));
  } finally {
    await instance.stop();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a busy dashboard port: exit 1 with a clear message and nothing on stdout', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as { port: number }).port;
  const home = tempHome();
  try {
    const result = await runCli(['--dashboard=' + port], { ...process.env, EXEC_DESK_HOME: home });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`^Error: cannot start the dashboard on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`, 'm'));
    assert.ok(!existsSync(discoveryPath(home)));
  } finally {
    blocker.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('stdio with --dashboard: stdout carries only JSON-RPC, status sees the stdio session', async () => {
  const home = tempHome();
  const env = { ...process.env, EXEC_DESK_HOME: home };
  const instance = launch(['--listen', 'stdio', '--dashboard'], env, 'pipe');
  try {
    await instance.dashboardUrl;
    await until(() => existsSync(discoveryPath(home)), 'discovery file');
    instance.child.stdin!.write('{"id":1,"method":"initialize","params":{"clientName":"stdio-client"}}\n{"method":"initialized"}\n');
    const first = JSON.parse(await instance.firstLine);
    assert.ok(first.result.sessionId);
    const status = await runCli(['status', '--json'], env);
    assert.equal(status.code, 3, status.stderr);
    const snapshot = JSON.parse(status.stdout).snapshot;
    assert.equal(snapshot.listener.status, 'stopped');
    assert.deepEqual(snapshot.sessions.map((s: any) => [s.clientName, s.carrier]), [['stdio-client', { kind: 'stdio' }]]);
    instance.child.stdin!.end();
    assert.equal(await instance.exited, 0);
    for (const line of instance.stdout().trim().split('\n')) JSON.parse(line);
    assert.ok(!existsSync(discoveryPath(home)));
  } finally {
    await instance.stop('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
});

test('--no-ui: the dashboard\'s Connect registers with the remote settings entered there and CODEX_API_KEY', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: 'sk-env-key' });
  const home = tempHome();
  const env = { ...process.env, EXEC_DESK_HOME: home, CODEX_API_KEY: 'sk-env-key' };
  const instance = launch(['--listen', 'ws://127.0.0.1:0', '--no-ui'], env);
  let client: WsControlClient | null = null;
  try {
    const { url, token } = parseDashboardUrl(await instance.dashboardUrl);
    client = await WsControlClient.connect({ url, token, WebSocket: WebSocket as unknown as WebSocketConstructor });
    await client.invoke('updateSettings', { remote: { registryUrl: registry.baseUrl, environmentId: 'env-dashboard' } });
    await client.invoke('connectRemote', undefined);
    await registry.waitForExecutor('env-dashboard');
    // The registry sees the socket a moment before the executor marks itself online: poll.
    let status = await runCli(['status', '--json'], env);
    for (let i = 0; i < 50 && status.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = await runCli(['status', '--json'], env);
    }
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.equal(JSON.parse(status.stdout).snapshot.registration.environmentId, 'env-dashboard');
    assert.equal(await instance.stop('SIGTERM'), 0);
  } finally {
    client?.close();
    await instance.stop('SIGKILL');
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  }
});
