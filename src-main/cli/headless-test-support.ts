/** Starts the headless CLI as a child process and watches all of its output (for CLI tests). */
import { spawn, type ChildProcess } from 'node:child_process';
import { execDeskBin } from '../testkit/server-process.ts';

export interface Instance {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line. */
  firstLine: Promise<string>;
  /** Resolves with the dashboard URL from stderr. */
  dashboardUrl: Promise<string>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function launch(args: string[], env: NodeJS.ProcessEnv, stdin: 'ignore' | 'pipe' = 'ignore'): Instance {
  const child = spawn(process.execPath, [execDeskBin, ...args], { env, stdio: [stdin, 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = (read: () => string, pattern: RegExp, what: string) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} in 20 s; stderr: ${err}`)), 20_000);
      const check = () => {
        const m = pattern.exec(read());
        if (!m) return;
        clearTimeout(timer);
        resolve(m[1]!);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      void exited.then(() => {
        check();
        clearTimeout(timer);
        reject(new Error(`exited before printing ${what}; stderr: ${err}`));
      });
    });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const firstLine = waitFor(() => out, /^([^\n]*)\n/, 'stdout line');
  const dashboardUrl = waitFor(() => err, /exec-desk dashboard: (\S+)\n/, 'dashboard line');
  firstLine.catch(() => undefined);
  dashboardUrl.catch(() => undefined);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    firstLine,
    dashboardUrl,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [execDeskBin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
