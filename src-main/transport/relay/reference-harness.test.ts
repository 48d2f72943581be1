/**
 * The responder role against the real harness: `codex app-server` 0.169.0 (with the
 * CODEX_EXEC_SERVER_NOISE_* variables) connects through the project's fake registry and
 * rendezvous to exec-desk's remote link (NoiseRemoteLink) serving ExecServer. A scripted model makes the
 * harness run a command on that remote environment, which exec-desk starts as a process.
 * Loopback only; skipped when the reference binary is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecServer } from '../../core/exec-server.ts';
import type { MessagePipe } from '../../core/rpc/message-pipe.ts';
import { silentLogger } from '../../core/log.ts';
import { FakeRegistry } from '../../testkit/remote/fake-registry.ts';
import { MockModel } from '../../testkit/remote/mock-model.ts';
import { referenceAvailable, startReferenceHarness, type ReferenceProcess } from '../../testkit/remote/reference.ts';
import { EXECUTOR_API_KEY } from '../../testkit/remote/executor-targets.ts';
import { ApiKeyProvider } from '../../remote/auth/api-key-provider.ts';
import { NoiseRemoteLink } from '../../remote/noise-remote-link.ts';
import { decodeRelayFrame, encodeRelayFrame } from './frame-codec.ts';

const HARNESS_TOKEN = 'harness-token';

/** ExecServer that also records the JSON-RPC messages each relay stream carries. */
class TappingExecServer extends ExecServer {
  readonly received: any[] = [];
  readonly sent: any[] = [];
  override serve(pipe: MessagePipe) {
    const received = this.received;
    const sent = this.sent;
    const tapped: MessagePipe = {
      parseErrorLabel: pipe.parseErrorLabel,
      peer: pipe.peer,
      send: (message) => {
        sent.push(JSON.parse(message.toString()));
        pipe.send(message);
      },
      onMessage: (handler) =>
        pipe.onMessage((data) => {
          received.push(JSON.parse(data.toString()));
          handler(data);
        }),
      onClose: (handler) => pipe.onClose(handler),
      close: () => pipe.close(),
      bufferedAmount: () => pipe.bufferedAmount(),
    };
    return super.serve(tapped);
  }
}

/** Line-delimited JSON-RPC over the app-server's stdio. */
class AppServerClient {
  private buffer = '';
  readonly messages: any[] = [];
  private waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];
  constructor(private readonly child: ReferenceProcess) {
    child.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line) continue;
        const message = JSON.parse(line);
        this.messages.push(message);
        this.waiters = this.waiters.filter((w) => (w.match(message) ? (w.resolve(message), false) : true));
      }
    });
  }
  send(message: unknown): void {
    this.child.child.stdin!.write(`${JSON.stringify(message)}\n`);
  }
  waitFor(match: (m: any) => boolean, timeoutMs = 20_000): Promise<any> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`app-server: no matching message in ${timeoutMs} ms; stderr:\n${this.child.stderr().slice(-3000)}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }
  async call(id: number, method: string, params: unknown): Promise<any> {
    const reply = this.waitFor((m) => m.id === id && m.method === undefined);
    this.send({ id, method, params });
    const message = await reply;
    if (message.error) throw new Error(`${method}: ${JSON.stringify(message.error)}`);
    return message.result;
  }
}

test(
  'the real harness (codex app-server) runs a command on exec-desk through the Noise relay',
  { skip: referenceAvailable() ? false : 'reference binary missing (node_modules/.bin/codex): npm ci installs @openai/codex 0.169.0', timeout: 90_000 },
  async () => {
    const environmentId = 'env-harness';
    const registry = await FakeRegistry.start({ executorToken: EXECUTOR_API_KEY, harnessToken: HARNESS_TOKEN });
    const server = new TappingExecServer({ log: silentLogger });
    const executor = new NoiseRemoteLink({ registryUrl: registry.baseUrl, environmentId, auth: new ApiKeyProvider(EXECUTOR_API_KEY), server, log: silentLogger });
    executor.start();
    await registry.waitForExecutor(environmentId);
    const model = await MockModel.start('echo hello-from-exec-desk');
    const workdir = mkdtempSync(join(tmpdir(), 'exec-desk-harness-'));
    const harness = startReferenceHarness({ registryUrl: registry.baseUrl, environmentId, authToken: HARNESS_TOKEN, modelBaseUrl: model.baseUrl });
    try {
      const client = new AppServerClient(harness);
      await client.call(1, 'initialize', { clientInfo: { name: 'exec-desk-test', version: '0' } });
      client.send({ method: 'initialized' });
      const started = await client.call(2, 'thread/start', { cwd: workdir, ephemeral: true, approvalPolicy: 'never', sandbox: 'danger-full-access' });
      assert.equal(started.thread.environments[0].environmentId, 'remote');
      await client.call(3, 'turn/start', { threadId: started.thread.id, input: [{ type: 'text', text: 'run the command' }] });
      const completed = await client.waitFor((m) => m.method === 'turn/completed', 30_000);
      assert.equal(completed.params.turn.status, 'completed');

      // The harness's command ran as a process on exec-desk, and its output went back to the model.
      const item = client.messages.find((m) => m.method === 'item/completed' && m.params.item.type === 'commandExecution')?.params.item;
      assert.ok(item, 'a commandExecution item completed');
      assert.equal(item.exitCode, 0);
      assert.equal(item.aggregatedOutput.replace(/\r\n/g, '\n'), 'hello-from-exec-desk\n');
      assert.match(model.toolOutput() ?? '', /Process exited with code 0[\s\S]*hello-from-exec-desk/);
      const initialize = server.received.find((m) => m.method === 'initialize');
      assert.deepEqual(initialize.params, { clientName: 'codex-environment', resumeSessionId: null });
      const start = server.received.find((m) => m.method === 'process/start');
      assert.ok(start, 'the harness sent process/start');
      assert.ok(server.sent.some((m) => m.method === 'process/closed' && m.params.processId === start.params.processId));

      // /connect as the real harness sends it
      const connect = registry.requests.find((r) => r.endpoint === 'connect')!;
      assert.deepEqual(
        connect.headers.map(([name]) => name),
        ['content-type', 'authorization', 'accept', 'host', 'content-length'],
      );
      assert.equal(connect.headers[1]![1], `Bearer ${HARNESS_TOKEN}`);
      assert.deepEqual(Object.keys(connect.body.harness_public_key), ['suite', 'x25519_public_key', 'mlkem768_public_key']);

      // Frames from the real harness: Resume then Handshake{msg1}, all re-encoding byte for byte.
      const fromHarness = registry.frames.filter((f) => f.direction === 'harness->executor');
      const first = decodeRelayFrame(fromHarness[0]!.bytes);
      assert.ok(first.ok);
      const streamId = first.frame.streamId;
      assert.match(streamId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(Buffer.from(fromHarness[0]!.bytes).toString('hex'), '08011224' + Buffer.from(streamId).toString('hex') + '3a00');
      const second = decodeRelayFrame(fromHarness[1]!.bytes);
      assert.ok(second.ok && second.frame.body.kind === 'handshake');
      const authorization = registry.environments.get(environmentId)!.authorizations.keys().next().value as string;
      assert.equal(second.frame.body.payload.length, 3568 + Buffer.byteLength(authorization));
      for (const recorded of fromHarness) {
        assert.equal(recorded.binary, true);
        const decoded = decodeRelayFrame(recorded.bytes);
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.error);
        assert.equal(Buffer.from(encodeRelayFrame(decoded.frame)).toString('hex'), Buffer.from(recorded.bytes).toString('hex'));
      }
      const harnessSeqs = fromHarness.flatMap((f) => {
        const d = decodeRelayFrame(f.bytes);
        return d.ok && d.frame.body.kind === 'data' && d.frame.streamId === streamId ? [d.frame.body.seq] : [];
      });
      assert.deepEqual(harnessSeqs, harnessSeqs.map((_, i) => i));
    } catch (error) {
      if (error instanceof Error) error.message += `\napp-server stderr (tail):\n${harness.stderr().slice(-3000)}`;
      throw error;
    } finally {
      await harness.stop();
      await executor.stop();
      await server.shutdown();
      await model.close();
      await registry.close();
      rmSync(workdir, { recursive: true, force: true });
    }
  },
);
