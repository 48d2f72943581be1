/**
 * Test support: runs `codex exec-server --remote …` 0.169.0 with a chosen auth setup — extra env,
 * files in its temporary CODEX_HOME (auth.json, config.toml) and a stdin pipe — so the auth
 * parity tests can compare the reference's requests with exec-desk's providers. Kept here rather
 * than in testkit/remote/reference.ts so that file stays as other suites expect it.
 * Loopback only: every other HTTP(S) destination goes to a dead proxy.
 */
import { referenceAvailable, referenceCommand } from '../../../testkit/remote/reference.ts';
import { spawnInTempHome, type TempHomeProcess } from '../../../testkit/temp-home-process.ts';

export { referenceAvailable };

export type ReferenceAuthRun = TempHomeProcess;

export function launchReferenceWithAuth(options: {
  registryUrl: string;
  environmentId: string;
  flags?: string[];
  env?: Record<string, string>;
  /** Files written into CODEX_HOME before start; `{home}` in contents becomes its path. */
  files?: Record<string, string>;
}): ReferenceAuthRun {
  const args = ['exec-server', '--remote', options.registryUrl, '--environment-id', options.environmentId, ...(options.flags ?? [])];
  return spawnInTempHome(referenceCommand(), args, { prefix: 'exec-desk-ref-auth-', env: options.env, files: options.files, stdin: 'pipe' });
}

/** Resolves when `check` returns a value (polled, bounded). */
export async function waitFor<T>(what: string, check: () => T | undefined | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
