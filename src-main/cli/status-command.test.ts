import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeSnapshot } from '../control/contract.ts';
import { ControlServer } from '../control/control-server.ts';
import { silentLogger } from '../core/log.ts';
import { discoveryPath, readDiscovery } from '../runtime/instance-discovery.ts';
import { stoppedRegistration } from '../runtime/fake-remote-link.ts';
import { RpcClient } from '../testkit/rpc-client.ts';
import { until } from '../runtime/test-support.ts';
import { launch, runCli } from './headless-test-support.ts';
import { runStatus, STATUS_EXIT } from './status-command.ts';

function tempHome(): string {
  return mkdtempSync(join(tmpdir(), 'exec-desk-status-'));
}

test('status --json against a real headless instance: found through the discovery file; exit 3 while not online, 1 once gone', async () => {
  const home = tempHome();
  const env = { ...process.env, EXEC_DESK_HOME: home };
  const instance = launch(['--no-ui', '--listen', 'ws://127.0.0.1:0'], env);
  try {
    const url = await instance.firstLine;
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+$/);
    await instance.dashboardUrl;
    await until(() => existsSync(discoveryPath(home)), 'the discovery file exists');
    const record = readDiscovery(home);
    assert.equal(record.pid, instance.child.pid);
    assert.equal(record.listenUrl, url);

    const client = await RpcClient.connect(url);
    const { sessionId } = await client.handshake('status-test');
    await client.call('process/start', { processId: 'sleeper', argv: ['/bin/sleep', '30'], cwd: 'file:///tmp', env: { PATH: '/usr/bin:/bin' }, tty: false });

    const status = await runCli(['status', '--json'], env);
    assert.equal(status.code, STATUS_EXIT.notOnline, status.stderr);
    const report = JSON.parse(status.stdout) as { statusSchemaVersion: number; reachable: boolean; online: boolean; pid: number; controlUrl: string; snapshot: RuntimeSnapshot };
    assert.equal(report.statusSchemaVersion, 1);
    assert.equal(report.reachable, true);
    assert.equal(report.online, false);
    assert.equal(report.pid, instance.child.pid);
    assert.equal(report.controlUrl, record.controlUrl);
    assert.equal(report.snapshot.host, 'headless');
    assert.equal(report.snapshot.listener.url, url);
    assert.equal(report.snapshot.listener.connections, 1);
    assert.equal(report.snapshot.registration.status, 'stopped');
    assert.deepEqual(report.snapshot.sessions.map((s) => [s.sessionId, s.clientName, s.state, s.processCount]), [[sessionId, 'status-test', 'attached', 1]]);
    assert.deepEqual(report.snapshot.processes.map((p) => [p.processId, p.state, p.argv]), [['sleeper', 'running', ['/bin/sleep', '30']]]);
    assert.ok(!status.stdout.includes(record.token), 'the token is not printed');

    const human = await runCli(['status'], env);
    assert.equal(human.code, STATUS_EXIT.notOnline);
    assert.match(human.stdout, /listener: +listening ws:\/\/127\.0\.0\.1:\d+/);
    assert.match(human.stdout, /sessions: +1 \(1 attached\)/);

    const byUrl = await runCli(['status', '--json', '--control-url', record.dashboardUrl], { ...process.env, EXEC_DESK_HOME: join(home, 'elsewhere') });
    assert.equal(byUrl.code, STATUS_EXIT.notOnline, byUrl.stderr);
    assert.equal(JSON.parse(byUrl.stdout).pid, null);
    const byWs = await runCli(['status', '--control-url', record.controlUrl], { ...process.env, EXEC_DESK_CONTROL_TOKEN: record.token });
    assert.equal(byWs.code, STATUS_EXIT.notOnline, byWs.stderr);
    const wrongToken = await runCli(['status', '--json', '--control-url', record.dashboardUrl.replace(/token=.*/, 'token=wrong')], env);
    assert.equal(wrongToken.code, STATUS_EXIT.unreachable);
    assert.equal(JSON.parse(wrongToken.stdout).reachable, false);

    client.terminate();
    assert.equal(await instance.stop('SIGTERM'), 0);
    assert.ok(!existsSync(discoveryPath(home)), 'the discovery file is removed on exit');
    const gone = await runCli(['status', '--json'], env);
    assert.equal(gone.code, STATUS_EXIT.unreachable);
    assert.deepEqual(JSON.parse(gone.stdout), { statusSchemaVersion: 1, reachable: false, online: false, error: JSON.parse(gone.stdout).error });
    assert.match(gone.stderr, /^Error: no running exec-desk instance found/);

    // A file left by a crashed instance names a dead pid.
    writeFileSync(discoveryPath(home), JSON.stringify({ ...record, pid: 2 ** 22 + 4321 }), { mode: 0o600 });
    const stale = await runCli(['status'], env);
    assert.equal(stale.code, STATUS_EXIT.unreachable);
    assert.match(stale.stderr, /which has exited/);
  } finally {
    await instance.stop('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
});

test('status exits 0 when the registration is online; usage errors exit 2', async () => {
  const online: Partial<RuntimeSnapshot> = { schemaVersion: 1, registration: stoppedRegistration({ status: 'online', onlineSinceMs: 1 }) };
  const server = await ControlServer.start({
    log: silentLogger,
    target: { subscribe: () => () => undefined, dispatch: async () => online },
  });
  try {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
    assert.equal(await runStatus(['--json', `--control-url=${server.dashboardUrl}`], {}, io), STATUS_EXIT.online);
    const report = JSON.parse(out.join(''));
    assert.equal(report.online, true);
    assert.equal(report.snapshot.registration.status, 'online');
    assert.equal(await runStatus(['--bogus'], {}, io), STATUS_EXIT.usage);
    assert.match(err.join(''), /unexpected argument '--bogus'/);
    assert.equal(await runStatus(['--control-url'], {}, io), STATUS_EXIT.usage);
    assert.equal(await runStatus(['--control-url', 'ws://127.0.0.1:1/control'], {}, io), STATUS_EXIT.unreachable);
    assert.match(err.join(''), /needs the token in EXEC_DESK_CONTROL_TOKEN/);
    assert.equal(await runStatus(['--help'], {}, io), 0);
    assert.match(out.join(''), /Exit codes: 0 registration online, 3 running but not online/);
  } finally {
    await server.close();
  }
});
