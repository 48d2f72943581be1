/**
 * Helpers for the process tests: run a LocalProcess to completion, and check whether a pid is
 * still a live process (a zombie nobody reaped counts as gone).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawnLocalProcess, type LocalProcess, type LocalProcessSpec } from './local-process.ts';
import type { ProcessStream } from './output-log.ts';

export interface Run {
  proc: LocalProcess;
  /** Events in order: `out:<stream>`, `exit:<code>`, `closed`. */
  events: string[];
  output: Record<ProcessStream, Buffer[]>;
  text(stream?: ProcessStream): string;
  exited: Promise<number>;
  closed: Promise<void>;
}

export const baseSpec: LocalProcessSpec = { argv: [], cwd: '/', env: { PATH: '/usr/bin:/bin' }, tty: false, pipeStdin: false, arg0: null };

/** Every process a test started, so `killAll` can clean up after failures too. */
const started = new Set<LocalProcess>();

export function start(spec: Partial<LocalProcessSpec>): Run {
  const events: string[] = [];
  const output: Record<ProcessStream, Buffer[]> = { stdout: [], stderr: [], pty: [] };
  let onExit!: (code: number) => void;
  let onClosed!: () => void;
  const exited = new Promise<number>((r) => (onExit = r));
  const closed = new Promise<void>((r) => (onClosed = r));
  const proc = spawnLocalProcess(
    { ...baseSpec, ...spec },
    {
      output(stream, bytes) {
        events.push(`out:${stream}`);
        output[stream].push(bytes);
      },
      exited(code) {
        events.push(`exit:${code}`);
        onExit(code);
      },
      closed() {
        events.push('closed');
        started.delete(proc);
        onClosed();
      },
    },
  );
  started.add(proc);
  return {
    proc,
    events,
    output,
    text: (stream) => Buffer.concat(stream ? output[stream] : [...output.stdout, ...output.stderr, ...output.pty]).toString(),
    exited,
    closed,
  };
}

/** Runs to `closed` and returns the run. */
export async function runToEnd(spec: Partial<LocalProcessSpec>): Promise<Run> {
  const run = start(spec);
  await run.closed;
  return run;
}

export function killAll(): void {
  for (const proc of started) proc.killGroup();
  started.clear();
}

/** Whether `pid` is a process that is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `check` every 10 ms until it holds or `timeoutMs` passes (tests only). */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return check();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * This process's descriptors that lack close-on-exec, so every child inherits them whoever spawns
 * it (a test harness may leave one open, e.g. 251). A child must get nothing beyond 0-2 and these.
 */
export function inheritableFds(): Set<string> {
  const fds = new Set<string>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    try {
      const flags = /^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 0o2000000) === 0) fds.add(fd);
    } catch {
      /* closed meanwhile */
    }
  }
  return fds;
}

/** A shell snippet that lists the shell's descriptors as `fd target` lines (from a child, so the listing opens none in the shell). */
export const LIST_FDS = "find /proc/$$/fd -mindepth 1 -printf '%f %l\\n'";

/**
 * Descriptors beyond 0-2 in a `LIST_FDS` listing that should not be there: anything this process
 * could not have passed on by accident (see `inheritableFds`), and any terminal master or socket,
 * which would be another child's output channel or terminal leaking in.
 */
export function unexpectedFds(listing: string, allowed: Set<string>): string[] {
  return listing
    .split(/\r?\n/)
    .filter((line) => line !== '')
    .filter((line) => {
      const [fd, target = ''] = line.split(' ');
      if (fd === '0' || fd === '1' || fd === '2') return false;
      return !allowed.has(fd!) || /ptmx|socket:/.test(target);
    });
}
