/**
 * Test support: runs `codex exec-server --remote …` 0.169.0 with a chosen auth setup — extra env,
 * files in its temporary CODEX_HOME (auth.json, config.toml) and a stdin pipe — so the auth
 * parity tests can compare the reference's requests with exec-desk's providers. Kept here rather
 * than in testkit/remote/reference.ts so that file stays as other suites expect it.
 * Loopback only: every other HTTP(S) destination goes to a dead proxy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { referenceAvailable, referenceCommand } from '../../../testkit/remote/reference.ts';

export { referenceAvailable };

const DEAD_PROXY = 'http://127.0.0.1:9';

export interface ReferenceAuthRun {
  child: ChildProcess;
  home: string;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after 5 s) and removes the temporary CODEX_HOME. */
  stop(): Promise<number | null>;
}

export function launchReferenceWithAuth(options: {
  registryUrl: string;
  environmentId: string;
  flags?: string[];
  env?: Record<string, string>;
  /** Files written into CODEX_HOME before start; `{home}` in contents becomes its path. */
  files?: Record<string, string>;
}): ReferenceAuthRun {
  const home = mkdtempSync(join(tmpdir(), 'exec-desk-ref-auth-'));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(home, name), content.replaceAll('{home}', home), { mode: 0o600 });
  }
  const child = spawn(
    referenceCommand(),
    ['exec-server', '--remote', options.registryUrl, '--environment-id', options.environmentId, ...(options.flags ?? [])],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        CODEX_HOME: home,
        HTTP_PROXY: DEAD_PROXY,
        HTTPS_PROXY: DEAD_PROXY,
        ALL_PROXY: DEAD_PROXY,
        http_proxy: DEAD_PROXY,
        https_proxy: DEAD_PROXY,
        NO_PROXY: '127.0.0.1,localhost',
        no_proxy: '127.0.0.1,localhost',
        ...options.env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  child.stdin!.on('error', () => {});
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    home,
    stderr: () => stderr,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
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
