/**
 * Link behaviour checked on exec-desk's product link and on `codex exec-server --remote` 0.169.0
 * with the same assertions: what a refused rendezvous upgrade (5xx vs 4xx) and a dropped socket do
 * to registration and the rendezvous URL, and the per-stream inbound queue bound.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { FakeRegistry, type FakeRegistryOptions, type RecordedUpgrade } from '../testkit/remote/fake-registry.ts';
import { NoiseHarness } from '../testkit/remote/harness-client.ts';
import { EXECUTOR_API_KEY, executorTargets, type ExecutorTarget } from '../testkit/remote/executor-targets.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sigOf = (upgrade: RecordedUpgrade) => new URL(upgrade.url, 'http://x').searchParams.get('sig');

async function withExecutor(
  target: ExecutorTarget,
  registryOptions: (environmentId: string) => FakeRegistryOptions,
  run: (registry: FakeRegistry, environmentId: string) => Promise<void>,
): Promise<void> {
  const environmentId = `env-${randomUUID().slice(0, 8)}`;
  const registry = await FakeRegistry.start({ executorToken: EXECUTOR_API_KEY, ...registryOptions(environmentId) });
  let executor: Awaited<ReturnType<ExecutorTarget['start']>> | undefined;
  try {
    executor = await target.start(registry, environmentId);
    await run(registry, environmentId);
  } catch (error) {
    if (executor && error instanceof Error) error.message += `\n${executor.describe()}`;
    throw error;
  } finally {
    await executor?.stop();
    await registry.close();
  }
}

for (const target of executorTargets) {
  const skip = target.available ? false : 'reference binary missing (node_modules/.bin/codex)';
  describe(`remote link behaviour: ${target.name}`, { skip }, () => {
    test('a 5xx upgrade answer retries the same URL; a 4xx re-registers with the same key', async () => {
      const answers = [503, 404];
      await withExecutor(
        target,
        (environmentId) => ({ rejectUpgrades: (u) => (u.role === 'environment' && u.environmentId === environmentId ? answers.shift() : undefined) }),
        async (registry, environmentId) => {
          const upgrades = registry.executorUpgrades(environmentId);
          assert.deepEqual(upgrades.map((u) => u.status), [503, 404, 101]);
          assert.equal(sigOf(upgrades[0]!), sigOf(upgrades[1]!), 'same URL after a 5xx');
          assert.notEqual(sigOf(upgrades[1]!), sigOf(upgrades[2]!), 'a new registration after a 4xx');
          const registrations = registry.registrations(environmentId);
          assert.equal(registrations.length, 2);
          assert.equal(registrations[0]!.rawBody, registrations[1]!.rawBody, 'the same key');
          for (const upgrade of upgrades) {
            assert.match(upgrade.headers.find(([n]) => n === 'x-request-id')?.[1] ?? '', /^req_[0-9a-f]{32}$/);
            assert.ok(!upgrade.headers.some(([n]) => n === 'authorization' || n === 'sec-websocket-protocol' || n === 'sec-websocket-extensions'));
          }
        },
      );
    });

    test('a dropped socket reconnects to the same URL without registering again', async () => {
      await withExecutor(target, () => ({}), async (registry, environmentId) => {
        const closed = registry.executorClosed(environmentId);
        registry.dropExecutor(environmentId);
        await closed;
        await registry.waitForExecutor(environmentId, 10_000);
        const upgrades = registry.executorUpgrades(environmentId);
        assert.equal(upgrades.length, 2);
        assert.equal(sigOf(upgrades[0]!), sigOf(upgrades[1]!));
        assert.equal(registry.registrations(environmentId).length, 1);
        const harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId, token: 'harness-token' });
        try {
          const stream = await harness.openStream();
          assert.match((await stream.initialize()).sessionId, /^[0-9a-f-]{36}$/);
        } finally {
          harness.close();
        }
      });
    });

    test('128 messages may queue behind a busy request on one stream; the 129th resets it', async () => {
      await withExecutor(target, () => ({}), async (registry, environmentId) => {
        const harness = await NoiseHarness.connect({ registryUrl: registry.baseUrl, environmentId, token: 'harness-token' });
        try {
          const stream = await harness.openStream();
          await stream.initialize();
          const cwd = pathToFileURL(process.cwd()).href;
          await stream.call('process/start', { processId: 'idle', argv: ['sleep', '5'], cwd, env: { PATH: process.env.PATH }, tty: false, arg0: null });
          stream.send({ id: 'blocker', method: 'process/read', params: { processId: 'idle', afterSeq: 1000, waitMs: 2_000 } });
          await sleep(200);
          for (let i = 0; i < 128; i++) stream.send({ id: `q${i}`, method: 'process/read', params: { processId: 'idle', afterSeq: 0 } });
          await sleep(400);
          assert.equal(stream.ended, null, '128 queued messages are accepted');
          stream.send({ id: 'q128', method: 'process/read', params: { processId: 'idle', afterSeq: 0 } });
          assert.equal(await stream.endedPromise(5_000), 'noise_relay_protocol_error');
        } finally {
          harness.close();
        }
      });
    });
  });
}
