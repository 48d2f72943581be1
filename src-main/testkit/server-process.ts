/**
 * Starts an exec-server as a child process — exec-desk's own CLI or the reference
 * `codex exec-server` — and reads the URL it prints as its first stdout line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type ServerKind = 'exec-desk' | 'reference';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
export const execDeskBin = fileURLToPath(new URL('../../bin/exec-desk.mjs', import.meta.url));
export const referenceBin = `${projectRoot}node_modules/.bin/codex`;

export function referenceAvailable(): boolean {
  return existsSync(referenceBin);
}

export interface StartedServer {
  kind: ServerKind;
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM, then waits for exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartServerOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Leave stdin as a pipe the test controls (for stdio mode and --exit-on-stdin-close). */
  stdinPipe?: boolean;
  /** Do not wait for a URL line (stdio mode prints none). */
  noUrl?: boolean;
}

export function commandFor(kind: ServerKind, args: string[]): [string, string[]] {
  return kind === 'reference'
    ? [referenceBin, ['exec-server', ...args]]
    : [process.execPath, [execDeskBin, ...args]];
}

export async function startServer(kind: ServerKind, options: StartServerOptions = {}): Promise<StartedServer> {
  const args = options.args ?? ['--listen', 'ws://127.0.0.1:0'];
  const [command, argv] = commandFor(kind, args);
  const env = { ...(options.env ?? process.env) };
  // With RUST_BACKTRACE set the reference appends a backtrace to its error output.
  if (kind === 'reference') delete env.RUST_BACKTRACE;
  const child = spawn(command, argv, {
    cwd: options.cwd,
    env,
    stdio: [options.stdinPipe ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  let url = '';
  if (!options.noUrl) {
    url = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      const onData = (d: Buffer) => {
        buffered += d.toString();
        const nl = buffered.indexOf('\n');
        if (nl >= 0) {
          child.stdout!.off('data', onData);
          resolve(buffered.slice(0, nl).trim());
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before printing its URL: ${stderr}`)));
      setTimeout(() => reject(new Error(`${kind} server printed no URL in 15 s: ${stderr}`)), 15_000).unref();
    });
  }

  return {
    kind,
    url,
    child,
    stderr: () => stderr,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
