/**
 * The two Noise executors a remote scenario can run against, behind one shape: exec-desk's
 * product link (NoiseRemoteLink with the API-key provider, serving ExecServer) and the reference
 * `codex exec-server --remote`. Both register with the given FakeRegistry and connect to its
 * rendezvous; the scenario then drives them with NoiseHarness and compares what comes back.
 */
import { ExecServer } from '../../core/exec-server.ts';
import { silentLogger } from '../../core/log.ts';
import { ApiKeyProvider } from '../../remote/auth/api-key-provider.ts';
import { NoiseRemoteLink } from '../../remote/noise-remote-link.ts';
import type { RelayHostLimits } from '../../transport/relay/noise-relay-host.ts';
import type { FakeRegistry } from './fake-registry.ts';
import { referenceAvailable, startReferenceExecutor, type ReferenceProcess } from './reference.ts';

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
    const server = new ExecServer({ log: silentLogger });
    const auth = new ApiKeyProvider(EXECUTOR_API_KEY);
    const link = new NoiseRemoteLink({
      registryUrl: registry.baseUrl,
      environmentId,
      auth,
      server,
      log: silentLogger,
      relayLimits: options.shortValidationTimeout ? SHORT_VALIDATION_LIMITS : undefined,
    });
    link.start();
    try {
      await registry.waitForExecutor(environmentId);
    } catch (error) {
      await link.stop();
      throw new Error(`${(error as Error).message}; link state: ${JSON.stringify(link.state)}`);
    }
    return {
      stop: async () => {
        await link.stop();
        await server.shutdown();
        auth.close();
      },
      describe: () => `exec-desk link state ${JSON.stringify(link.state)}; streams ${JSON.stringify(link.streams())}`,
    };
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
