/**
 * The two Noise executors a remote scenario can run against, behind one shape: exec-desk's
 * NoiseRelayHost (through TestExecutor, serving ExecServer) and the reference
 * `codex exec-server --remote`. Both register with the given FakeRegistry and connect to its
 * rendezvous; the scenario then drives them with NoiseHarness and compares what comes back.
 */
import { silentLogger } from '../../core/log.ts';
import type { RelayHostLimits } from '../../transport/relay/noise-relay-host.ts';
import type { FakeRegistry } from './fake-registry.ts';
import { referenceAvailable, startReferenceExecutor, type ReferenceProcess } from './reference.ts';
import { TestExecutor } from './test-executor.ts';

export interface RunningExecutor {
  stop(): Promise<void>;
  /** Diagnostics for a failed assertion. */
  describe(): string;
}

export interface StartOptions {
  /** Shorten the `/validate` deadline where the executor allows it (exec-desk: 1 s; the reference's is fixed). */
  shortValidationTimeout?: boolean;
}

export interface ExecutorTarget {
  name: 'exec-desk' | 'reference';
  available: boolean;
  /** The `/validate` deadline when started with `shortValidationTimeout`. */
  shortValidationTimeoutMs: number;
  start(registry: FakeRegistry, environmentId: string, options?: StartOptions): Promise<RunningExecutor>;
}

export const EXECUTOR_API_KEY = 'sk-test-executor';

/** exec-desk's limits in the validation-timeout scenario: the reference's, except a 1 s deadline. */
const SHORT_VALIDATION_LIMITS: Partial<RelayHostLimits> = { validationTimeoutMs: 1_000 };

export const execDeskTarget: ExecutorTarget = {
  name: 'exec-desk',
  available: true,
  shortValidationTimeoutMs: 1_000,
  async start(registry, environmentId, options = {}) {
    const executor = await TestExecutor.start({
      registryUrl: registry.baseUrl,
      environmentId,
      token: EXECUTOR_API_KEY,
      log: silentLogger,
      limits: options.shortValidationTimeout ? SHORT_VALIDATION_LIMITS : undefined,
    });
    await registry.waitForExecutor(environmentId);
    return { stop: () => executor.stop(), describe: () => `exec-desk (${executor.host.activeStreamCount} active streams)` };
  },
};

export const referenceTarget: ExecutorTarget = {
  name: 'reference',
  available: referenceAvailable(),
  shortValidationTimeoutMs: 10_000,
  async start(registry, environmentId) {
    const child: ReferenceProcess = startReferenceExecutor({ registryUrl: registry.baseUrl, environmentId, apiKey: EXECUTOR_API_KEY });
    try {
      await registry.waitForExecutor(environmentId, 20_000);
    } catch (error) {
      await child.stop();
      throw new Error(`${(error as Error).message}; reference stderr:\n${child.stderr().slice(-2000)}`);
    }
    return {
      stop: async () => {
        await child.stop();
      },
      describe: () => `reference stderr:\n${child.stderr().slice(-2000)}`,
    };
  },
};

export const executorTargets: ExecutorTarget[] = [execDeskTarget, referenceTarget];
