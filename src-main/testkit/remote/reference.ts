/**
 * Launchers for the reference binary in remote mode, on loopback only:
 * - `startReferenceExecutor`: `codex exec-server --remote <registry> --environment-id <id>` with an
 *   API key (allowed over plain HTTP to loopback);
 * - `startReferenceHarness`: `codex app-server` with the CODEX_EXEC_SERVER_NOISE_* variables, i.e.
 *   the real harness, plus a scripted model (mock-model.ts) so a turn makes it start a process on
 *   the remote environment.
 *
 * The native binary is spawned directly (not the npm wrapper) so that a kill reaches it. Every
 * outbound HTTP(S) request other than to 127.0.0.1 goes to a dead loopback proxy, and the
 * app-server's network features (plugins, apps, update checks, analytics) are switched off.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { referenceAvailable, referenceBin } from '../server-process.ts';
import { spawnInTempHome, type TempHomeProcess } from '../temp-home-process.ts';

const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
const nativeBinary = join(projectRoot, 'node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex');

export function referenceCommand(): string {
  return existsSync(nativeBinary) ? nativeBinary : referenceBin;
}

export { referenceAvailable };

export type ReferenceProcess = TempHomeProcess;

function launch(args: string[], env: Record<string, string>, stdin: 'pipe' | 'ignore'): ReferenceProcess {
  return spawnInTempHome(referenceCommand(), args, { prefix: 'exec-desk-ref-', env, stdin });
}

export function startReferenceExecutor(options: { registryUrl: string; environmentId: string; apiKey: string; rustLog?: string }): ReferenceProcess {
  const env: Record<string, string> = { CODEX_API_KEY: options.apiKey };
  if (options.rustLog) env.RUST_LOG = options.rustLog;
  return launch(['exec-server', '--remote', options.registryUrl, '--environment-id', options.environmentId], env, 'ignore');
}

export interface HarnessLaunchOptions {
  registryUrl: string;
  environmentId: string;
  authToken: string;
  /** Base URL of a Responses API (mock-model.ts), e.g. http://127.0.0.1:P/v1 */
  modelBaseUrl: string;
}

/** `codex app-server` (stdio JSON-RPC) as a Noise harness for `environmentId`. */
export function startReferenceHarness(options: HarnessLaunchOptions): ReferenceProcess {
  const config = [
    '-c', 'model_provider="mock"',
    '-c', 'model="mock-model"',
    '-c', `model_providers.mock={name="mock",base_url="${options.modelBaseUrl}",wire_api="responses",env_key="MOCK_MODEL_KEY"}`,
    '-c', 'analytics.enabled=false',
    '-c', 'check_for_update_on_startup=false',
    '--disable', 'plugins',
    '--disable', 'remote_plugin',
    '--disable', 'apps',
    '--disable', 'in_app_updates',
  ];
  return launch(['app-server', ...config], {
    MOCK_MODEL_KEY: 'mock',
    CODEX_EXEC_SERVER_NOISE_REGISTRY_URL: options.registryUrl,
    CODEX_EXEC_SERVER_NOISE_ENVIRONMENT_ID: options.environmentId,
    CODEX_EXEC_SERVER_NOISE_AUTH_TOKEN: options.authToken,
  }, 'pipe');
}
