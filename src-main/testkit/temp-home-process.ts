/**
 * Test kit: a child process in a fresh temporary HOME (also its CODEX_HOME) that can reach
 * loopback only, stopped with SIGTERM (SIGKILL after 5 s) and its home removed. The reference
 * binary's launchers and the direct-transport executors all start their processes this way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A dead proxy on loopback: external requests fail at once instead of leaving the machine. */
export const LOOPBACK_ONLY_ENV: Readonly<Record<string, string>> = {
  HTTP_PROXY: 'http://127.0.0.1:9',
  HTTPS_PROXY: 'http://127.0.0.1:9',
  ALL_PROXY: 'http://127.0.0.1:9',
  http_proxy: 'http://127.0.0.1:9',
  https_proxy: 'http://127.0.0.1:9',
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
};

const KILL_AFTER_MS = 5_000;

export interface TempHomeProcess {
  child: ChildProcess;
  /** The temporary HOME and CODEX_HOME. */
  home: string;
  stderr(): string;
  stdout(): string;
  exited: Promise<number | null>;
  /** SIGTERM (SIGKILL after 5 s); removes the temporary home. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

export interface TempHomeOptions {
  /** Name prefix of the temporary folder. */
  prefix: string;
  /** Added after PATH, HOME, CODEX_HOME and the loopback-only proxies; a function gets the home. */
  env?: Record<string, string> | ((home: string) => Record<string, string>);
  /** Files written into the home (0600) before start; `{home}` in a content becomes its path. */
  files?: Record<string, string>;
  /** A stdin pipe for the test to write to, or none. */
  stdin?: 'pipe' | 'ignore';
}

export function spawnInTempHome(command: string, args: string[], options: TempHomeOptions): TempHomeProcess {
  const home = mkdtempSync(join(tmpdir(), options.prefix));
  for (const [name, content] of Object.entries(options.files ?? {})) {
    writeFileSync(join(home, name), content.replaceAll('{home}', home), { mode: 0o600 });
  }
  const extra = typeof options.env === 'function' ? options.env(home) : (options.env ?? {});
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, CODEX_HOME: home, ...LOOPBACK_ONLY_ENV, ...extra },
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  child.stdin?.on('error', () => {});
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    home,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
      const code = await exited;
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
      return code;
    },
  };
}
