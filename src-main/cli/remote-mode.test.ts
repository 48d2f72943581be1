/**
 * Remote mode end to end through the real CLI (`node bin/exec-desk.mjs --remote …`), on loopback:
 * the project's FakeRegistry + rendezvous, the NoiseHarness (initiator) and, where installed, the
 * real harness (`codex app-server` 0.169.0) and the reference executor for comparison.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RuntimeSnapshot } from '../control/contract.ts';
import { discoveryPath } from '../runtime/instance-discovery.ts';
import { FakeRegistry } from '../testkit/remote/fake-registry.ts';
import { NoiseHarness, runProcess } from '../testkit/remote/harness-client.ts';
import { MockModel } from '../testkit/remote/mock-model.ts';
import { referenceAvailable, startReferenceExecutor, startReferenceHarness, type ReferenceProcess } from '../testkit/remote/reference.ts';
import { startServer, type StartedServer } from '../testkit/server-process.ts';
import { launch, runCli } from './headless-test-support.ts';
import { STATUS_EXIT } from './status-command.ts';

const API_KEY = 'sk-test-executor';
const HARNESS_TOKEN = 'harness-token';

function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CODEX_API_KEY: API_KEY, ...extra };
  delete env.CODEX_EXEC_SERVER_EXIT_ON_STDIN_CLOSE;
  return env;
}

/** `exec-desk --remote <registry> --environment-id <id> [extra]`, not waiting for any stdout. */
function startRemoteCli(registry: FakeRegistry, environmentId: string, extra: string[] = [], options: { env?: NodeJS.ProcessEnv; stdinPipe?: boolean } = {}) {
  return startServer('exec-desk', {
    args: ['--remote', registry.baseUrl, '--environment-id', environmentId, ...extra],
    env: options.env ?? cliEnv(),
    noUrl: true,
    stdinPipe: options.stdinPipe,
  });
}

/** Polls an async condition (a CLI round trip per check). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exitOf(server: StartedServer, timeoutMs = 15_000): Promise<number | null> {
  if (server.child.exitCode !== null) return server.child.exitCode;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms; stderr:\n${server.stderr()}`)), timeoutMs);
    server.child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

test('registers, serves initialize and a process over a Noise relay stream, exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: API_KEY });
  const cli = await startRemoteCli(registry, 'env-cli');
  let harness: NoiseHarness | null = null;
  try {
    await registry.waitForExecutor('env-cli');
    const register = registry.requests.find((r) => r.endpoint === 'register')!;
    assert.equal(register.headers.find(([n]) => n === 'authorization')?.[1], `Bearer ${API_KEY}`);

    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId: 'env-cli' });
    const stream = await harness.openStream();
    const init = await stream.initialize();
    assert.match(init.sessionId, /\S/);
    const result = await runProcess(stream, 'p1', ['/bin/sh', '-c', 'echo hello-from-remote-cli']);
    assert.deepEqual(result, { stdout: 'hello-from-remote-cli\n', exitCode: 0 });

    const closed = registry.executorClosed('env-cli');
    const code = await cli.stop('SIGTERM');
    assert.equal(code, 0, `exit ${code} ${cli.child.signalCode}; stderr:\n${cli.stderr()}`);
    await closed;
    // Logged its progress, never the credential.
    assert.match(cli.stderr(), /remote link .*"status":"online"/);
    assert.match(cli.stderr(), /relay stream .*"state":"open"/);
    assert.ok(!cli.stderr().includes(API_KEY), 'the API key is never logged');
  } finally {
    harness?.close();
    await cli.stop();
    await registry.close();
  }
});

test('a fatal registration error: `Error: <message>` and exit 1, as the reference', { timeout: 60_000 }, async () => {
  // The registry refuses the key: 401 is fatal for an API key (no refresh).
  const registry = await FakeRegistry.start({ executorToken: 'another-key' });
  try {
    const cli = await startRemoteCli(registry, 'env-fatal');
    const code = await exitOf(cli);
    const first = cli.stderr().split('\n').find((line) => line.startsWith('Error: '));
    assert.equal(code, 1, cli.stderr());
    assert.equal(
      first,
      'Error: environment registry authentication error: environment registry authentication failed (401 Unauthorized): bad executor credential',
    );
    if (referenceAvailable()) {
      const reference = startReferenceExecutor({ registryUrl: registry.baseUrl, environmentId: 'env-fatal', apiKey: API_KEY });
      const refCode = await new Promise<number | null>((resolve) => reference.child.once('exit', (c) => resolve(c)));
      await reference.stop();
      assert.equal(refCode, 1);
      assert.equal(reference.stderr().split('\n').find((line) => line.startsWith('Error: ')), first);
    }
  } finally {
    await registry.close();
  }
});

test('--exit-on-stdin-close: stdin EOF while online ends the link and exits 0', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: API_KEY });
  const cli = await startRemoteCli(registry, 'env-stdin', ['--exit-on-stdin-close'], { stdinPipe: true });
  try {
    await registry.waitForExecutor('env-stdin');
    const closed = registry.executorClosed('env-stdin');
    cli.child.stdin!.end();
    assert.equal(await exitOf(cli), 0, cli.stderr());
    await closed;
  } finally {
    await cli.stop();
    await registry.close();
  }
});

test('--executor-credential-stdin: registers with the frame\'s token; the pipe closing while online exits 0, as the reference', { timeout: 60_000 }, async () => {
  const TOKEN = 'rotating-token-1';
  const registry = await FakeRegistry.start({ executorToken: TOKEN });
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-ecs-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: home };
  const frame = (environmentId: string) =>
    `${JSON.stringify({ version: 1, token: TOKEN, environment_id: environmentId, expires_at: Math.floor(Date.now() / 1000) + 3600 })}\n`;
  const kinds = referenceAvailable() ? (['exec-desk', 'reference'] as const) : (['exec-desk'] as const);
  try {
    for (const kind of kinds) {
      const environmentId = `env-ecs-${kind}`;
      const args = ['--remote', registry.baseUrl, '--environment-id', environmentId, '--executor-credential-stdin'];
      const executor = await startServer(kind, { args, env, noUrl: true, stdinPipe: true });
      try {
        executor.child.stdin!.write(frame(environmentId));
        await registry.waitForExecutor(environmentId);
        const register = registry.requests.find((r) => r.endpoint === 'register' && r.environmentId === environmentId)!;
        assert.equal(register.headers.find(([n]) => n === 'authorization')?.[1], `Bearer ${TOKEN}`, kind);
        executor.child.stdin!.end();
        assert.equal(await exitOf(executor), 0, `${kind}: ${executor.stderr()}`);
      } finally {
        await executor.stop();
      }
    }
  } finally {
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('forward --connect: each relay stream gets its own connection to a local exec-desk listener', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: API_KEY });
  const listener = await startServer('exec-desk', { args: ['--listen', 'ws://127.0.0.1:0'] });
  const forward = await startServer('exec-desk', {
    args: ['forward', '--remote', registry.baseUrl, '--environment-id', 'env-fwd', '--connect', listener.url],
    env: cliEnv(),
    noUrl: true,
  });
  let harness: NoiseHarness | null = null;
  try {
    await registry.waitForExecutor('env-fwd');
    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId: 'env-fwd' });
    const one = await harness.openStream();
    const two = await harness.openStream();
    const [a, b] = await Promise.all([one.initialize('one'), two.initialize('two')]);
    assert.notEqual(a.sessionId, b.sessionId, 'two destination connections, two sessions');
    // The process runs under the listener, not under the forwarding process.
    const result = await runProcess(one, 'ppid', ['/bin/sh', '-c', 'echo $PPID']);
    assert.equal(result.exitCode, 0);
    assert.equal(Number(result.stdout.trim()), listener.child.pid);
    assert.notEqual(Number(result.stdout.trim()), forward.child.pid);
    // A stream ending drops only its own destination connection.
    one.reset();
    const again = await runProcess(two, 'still', ['/bin/echo', 'still-here']);
    assert.equal(again.stdout, 'still-here\n');
    const code = await forward.stop('SIGTERM');
    assert.equal(code, 0, `exit ${code} ${forward.child.signalCode}; stderr:\n${forward.stderr()}`);
  } finally {
    harness?.close();
    await forward.stop();
    await listener.stop();
    await registry.close();
  }
});

/** Line-delimited JSON-RPC over the app-server's stdio. */
class AppServer {
  private buffer = '';
  readonly messages: any[] = [];
  constructor(private readonly process: ReferenceProcess) {
    process.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line) this.messages.push(JSON.parse(line));
      }
    });
  }
  send(message: unknown): void {
    this.process.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }
  async waitFor(match: (m: any) => boolean, timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.messages.find(match);
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`app-server: no matching message in ${timeoutMs} ms; stderr:\n${this.process.stderr().slice(-3000)}`);
  }
  async call(id: number, method: string, params: unknown): Promise<any> {
    this.send({ id, method, params });
    const reply = await this.waitFor((m) => m.id === id && m.method === undefined);
    if (reply.error) throw new Error(`${method}: ${JSON.stringify(reply.error)}`);
    return reply.result;
  }
}

test(
  'the real harness (codex app-server) runs a command on the exec-desk CLI through the registry and relay',
  { skip: referenceAvailable() ? false : 'reference binary not installed', timeout: 120_000 },
  async () => {
    const environmentId = 'env-real-harness';
    const registry = await FakeRegistry.start({ executorToken: API_KEY, harnessToken: HARNESS_TOKEN });
    const cli = await startRemoteCli(registry, environmentId);
    const model = await MockModel.start('echo hello-from-exec-desk-cli');
    const workdir = mkdtempSync(join(tmpdir(), 'exec-desk-cli-harness-'));
    let harness: ReferenceProcess | null = null;
    try {
      await registry.waitForExecutor(environmentId);
      harness = startReferenceHarness({ registryUrl: registry.baseUrl, environmentId, authToken: HARNESS_TOKEN, modelBaseUrl: model.baseUrl });
      const app = new AppServer(harness);
      await app.call(1, 'initialize', { clientInfo: { name: 'exec-desk-cli-test', version: '0' } });
      app.send({ method: 'initialized' });
      const started = await app.call(2, 'thread/start', { cwd: workdir, ephemeral: true, approvalPolicy: 'never', sandbox: 'danger-full-access' });
      assert.equal(started.thread.environments[0].environmentId, 'remote');
      await app.call(3, 'turn/start', { threadId: started.thread.id, input: [{ type: 'text', text: 'run the command' }] });
      const completed = await app.waitFor((m) => m.method === 'turn/completed', 60_000);
      assert.equal(completed.params.turn.status, 'completed');
      const item = app.messages.find((m) => m.method === 'item/completed' && m.params.item.type === 'commandExecution')?.params.item;
      assert.ok(item, 'a commandExecution item completed');
      assert.equal(item.exitCode, 0);
      assert.equal(item.aggregatedOutput.replace(/\r\n/g, '\n'), 'hello-from-exec-desk-cli\n');
      // The real harness went through /connect and our executor answered /validate for it.
      assert.ok(registry.requests.some((r) => r.endpoint === 'connect'));
      assert.ok(registry.requests.some((r) => r.endpoint === 'validate'));
      assert.match(cli.stderr(), /relay stream .*"state":"open"/);
    } catch (error) {
      if (error instanceof Error && harness) error.message += `\napp-server stderr (tail):\n${harness.stderr().slice(-3000)}\ncli stderr:\n${cli.stderr().slice(-3000)}`;
      throw error;
    } finally {
      await harness?.stop();
      await cli.stop();
      await model.close();
      await registry.close();
      rmSync(workdir, { recursive: true, force: true });
    }
  },
);

test('--remote … --no-ui: `status --json` shows the registration, the relay stream, its session and process; nothing on stdout', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: API_KEY });
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-remote-status-'));
  const env = { ...cliEnv(), EXEC_DESK_HOME: home };
  const cli = launch(['--remote', registry.baseUrl, '--environment-id', 'env-status', '--no-ui'], env);
  let harness: NoiseHarness | null = null;
  const status = async () => {
    const result = await runCli(['status', '--json'], env);
    return { code: result.code, report: JSON.parse(result.stdout) as { online: boolean; snapshot: RuntimeSnapshot } };
  };
  try {
    await cli.dashboardUrl;
    await registry.waitForExecutor('env-status');
    await eventually(async () => (await status()).code === STATUS_EXIT.online, 'status reports online');
    const online = (await status()).report;
    assert.equal(online.online, true);
    assert.equal(online.snapshot.host, 'headless');
    assert.equal(online.snapshot.listener.status, 'stopped', 'no local listener in remote mode');
    const registration = online.snapshot.registration;
    assert.deepEqual(
      [registration.status, registration.environmentId, registration.authMethod, registration.transport],
      ['online', 'env-status', 'api-key', 'noise'],
    );
    assert.match(registration.registrationId ?? '', /\S/);

    harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId: 'env-status' });
    const stream = await harness.openStream();
    const { sessionId } = await stream.initialize('status-harness');
    await stream.call('process/start', { processId: 'sleeper', argv: ['/bin/sleep', '30'], cwd: pathToFileURL(tmpdir()).href, env: { PATH: '/usr/bin:/bin' }, tty: false, arg0: null });
    await eventually(async () => {
      const s = (await status()).report.snapshot;
      return s.streams.some((v) => v.sessionId === sessionId) && s.processes.some((p) => p.processId === 'sleeper');
    }, 'status shows the stream with its session and the process');
    const snapshot = (await status()).report.snapshot;
    const view = snapshot.streams.find((v) => v.sessionId === sessionId)!;
    assert.equal(view.streamId, stream.streamId);
    assert.equal(view.state, 'open');
    assert.deepEqual(
      snapshot.sessions.map((s) => [s.sessionId, s.clientName, s.carrier, s.processCount]),
      [[sessionId, 'status-harness', { kind: 'relay', streamId: stream.streamId }, 1]],
    );
    assert.deepEqual(
      snapshot.processes.map((p) => [p.sessionId, p.processId, p.state, p.argv]),
      [[sessionId, 'sleeper', 'running', ['/bin/sleep', '30']]],
    );

    assert.equal(await cli.stop('SIGTERM'), 0, cli.stderr());
    assert.equal(cli.stdout(), '', 'remote mode prints nothing on stdout, even with --no-ui');
    assert.ok(!existsSync(discoveryPath(home)), 'the discovery file is removed on exit');
    assert.ok(!cli.stderr().includes(API_KEY), 'the API key is never logged');
  } finally {
    harness?.close();
    await cli.stop('SIGKILL');
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  }
});

test('a bare --remote run stays a drop-in: no control server, no discovery file, nothing on stdout', { timeout: 60_000 }, async () => {
  const registry = await FakeRegistry.start({ executorToken: API_KEY });
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-remote-bare-'));
  const env = { ...cliEnv(), EXEC_DESK_HOME: home };
  const cli = launch(['--remote', registry.baseUrl, '--environment-id', 'env-bare'], env);
  try {
    await registry.waitForExecutor('env-bare');
    const result = await runCli(['status', '--json'], env);
    assert.equal(result.code, STATUS_EXIT.unreachable);
    assert.ok(!existsSync(discoveryPath(home)));
    assert.ok(!cli.stderr().includes('dashboard'), cli.stderr());
    assert.equal(await cli.stop('SIGTERM'), 0, cli.stderr());
    assert.equal(cli.stdout(), '');
  } finally {
    await cli.stop('SIGKILL');
    await registry.close();
    rmSync(home, { recursive: true, force: true });
  }
});
