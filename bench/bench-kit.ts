/**
 * What the side-by-side benchmarks share: starting exec-desk or the reference and stopping them
 * on every exit path, bounded waits, CPU accounting of a server's process tree, and the results
 * table. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

export const projectRoot = fileURLToPath(new URL('../', import.meta.url));
export const execDeskBin = `${projectRoot}bin/exec-desk.mjs`;
export const referenceBin = `${projectRoot}node_modules/.bin/codex`;

export type Kind = 'reference' | 'exec-desk';
export const KINDS: Kind[] = ['reference', 'exec-desk'];

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const ratioText = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');

export function withTimeout<T>(what: string, ms: number, work: (resolve: (v: T) => void, reject: (e: Error) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    work(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * What the local benches' lean JSON-RPC clients share: ids, pending replies, one failure that
 * rejects every waiter, request / notify / handshake. Each bench decodes its frames its own way in
 * `onFrame` (cutting base64 out of raw frames is what keeps the client from being the bottleneck)
 * and hands each reply to `settle`.
 */
export abstract class LeanRpcClient<R> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: R): void; reject(err: Error): void }>();
  private failure: Error | null = null;

  protected constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const at = now();
      if (isBinary) return this.fail(new Error('server sent a binary frame'));
      this.onFrame(data, at);
    });
    ws.on('close', () => this.fail(new Error('connection closed')));
    ws.on('error', (err) => this.fail(err));
  }

  /** An open websocket to `url` (no compression), for a subclass's constructor. */
  protected static open(url: string, timeoutMs: number, maxPayload: number): Promise<WebSocket> {
    return withTimeout(`connecting to ${url}`, timeoutMs, (resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload });
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  }

  /** One text frame from the server, with its arrival time. */
  protected abstract onFrame(data: Buffer, at: number): void;

  get error(): Error | null {
    return this.failure;
  }

  /** The answer to request `id`: an `error` rejects it; an unknown id fails the connection. */
  protected settle(id: unknown, error: { code: number; message: string } | undefined, reply: () => R): void {
    const waiter = this.pending.get(id as number);
    if (!waiter) return this.fail(new Error(`response for unknown id ${String(id)}`));
    this.pending.delete(id as number);
    if (error) waiter.reject(new Error(`rpc error ${error.code}: ${error.message}`));
    else waiter.resolve(reply());
  }

  protected fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }

  /** Sends a request; `sentAt` is taken right before the send. */
  request(method: string, params: unknown, timeoutMs: number): { sentAt: number; reply: Promise<R> } {
    const id = this.nextId++;
    const reply = withTimeout<R>(`${method} response`, timeoutMs, (resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.pending.set(id, { resolve, reject });
    });
    reply.catch(() => this.pending.delete(id));
    const text = JSON.stringify({ id, method, params });
    const sentAt = now();
    this.ws.send(text);
    return { sentAt, reply };
  }

  notify(method: string, params: unknown): void {
    this.ws.send(JSON.stringify({ method, params }));
  }

  async handshake(clientName: string, timeoutMs: number): Promise<void> {
    await this.request('initialize', { clientName }, timeoutMs).reply;
    this.notify('initialized', {});
  }

  close(): void {
    this.ws.terminate();
  }
}

/** CPU seconds (user + system) of `rootPid` and all its descendants, from /proc. */
export function treeCpuSeconds(rootPid: number): number {
  const tick = 100; // USER_HZ on Linux
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return NaN;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(fields[1]));
      cpu.set(Number(name), (Number(fields[11]) + Number(fields[12])) / tick);
    } catch {
      /* exited meanwhile */
    }
  }
  let total = 0;
  for (const [pid, seconds] of cpu) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === rootPid) {
        total += seconds;
        break;
      }
    }
  }
  return total;
}

export interface Server {
  kind: Kind;
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

const liveServers = new Set<ChildProcess>();

function killAllSync(): void {
  for (const child of liveServers) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/** Stops every server (and runs `cleanup`) on exit, SIGINT and SIGTERM. Call once per script. */
export function stopServersOnExit(cleanup: () => void = () => {}): void {
  process.on('exit', () => {
    killAllSync();
    cleanup();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\n${signal}: stopping servers\n`);
      killAllSync();
      cleanup();
      process.exit(130);
    });
  }
}

/** Starts a server on ws://127.0.0.1:0 and resolves once it printed its URL. */
export async function startServer(kind: Kind, deskBin: string, deskNodeArgs: string[] = []): Promise<Server> {
  const listen = ['--listen', 'ws://127.0.0.1:0'];
  const [command, args] =
    kind === 'reference' ? [referenceBin, ['exec-server', ...listen]] : [process.execPath, [...deskNodeArgs, deskBin, ...listen]];
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // never leak the bench's own loader flags into a server
  const child = spawn(command, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  liveServers.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 65_536) stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => liveServers.delete(child));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    const url = await withTimeout<string>(`${kind} printing its URL`, 20_000, (resolve, reject) => {
      let buffered = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString();
        const nl = buffered.indexOf('\n');
        if (nl >= 0) resolve(buffered.slice(0, nl).trim());
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${kind} exited (${code}) before printing its URL: ${stderr}`)));
    });
    if (!/^ws:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`${kind} printed an unexpected URL: ${url}`);
    return { kind, url, child, stderr: () => stderr, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Row {
  metric: string;
  reference: string;
  execDesk: string;
  ratio: string;
  target: string;
  status: string;
}

export function renderTable(rows: Row[]): string {
  const header: Row = { metric: 'metric', reference: 'reference', execDesk: 'exec-desk', ratio: 'ratio (desk/ref)', target: 'target', status: 'status' };
  const cols: Array<keyof Row> = ['metric', 'reference', 'execDesk', 'ratio', 'target', 'status'];
  const all = [header, ...rows];
  const width = (c: keyof Row) => Math.max(...all.map((r) => r[c].length));
  const line = (r: Row) => `| ${cols.map((c) => r[c].padEnd(width(c))).join(' | ')} |`;
  return [line(header), `| ${cols.map((c) => '-'.repeat(width(c))).join(' | ')} |`, ...rows.map(line)].join('\n');
}

/** Latency samples (ms) summarized the same way by every benchmark. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/** Linear-interpolated quantile of an ascending array. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN,
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

export const median = (values: number[]) => quantile([...values].sort((a, b) => a - b), 0.5);

// ---------------------------------------------------------------------------------------------
// Command-line flags (node:util parseArgs, plus integer minimums and a generated usage line)

/** One flag of a benchmark; the flag is the key in kebab case unless `flag` names it. */
export type FlagSpec =
  | { kind: 'int'; min: number; default: number; flag?: string }
  | { kind: 'string'; default: string; flag?: string; meta?: string }
  | { kind: 'choice'; choices: readonly string[]; default: string | null; flag?: string }
  | { kind: 'switch'; default: boolean; flag?: string }
  | { kind: 'list'; flag?: string; meta?: string };

type FlagValue<S extends FlagSpec> = S extends { kind: 'int' }
  ? number
  : S extends { kind: 'string' }
    ? string
    : S extends { kind: 'choice' }
      ? S['choices'][number] | S['default']
      : S extends { kind: 'switch' }
        ? boolean
        : string[];

export type Flags<Spec extends Record<string, FlagSpec>> = { [K in keyof Spec]: FlagValue<Spec[K]> };

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Parses a benchmark's flags; a bad or unknown flag prints the message and the usage line and
 * exits 2, `--help` prints `about` and the usage line. A `switch` whose default is true is
 * turned off by its flag (name it `no-…`).
 */
export function parseBenchFlags<Spec extends Record<string, FlagSpec>>(argv: string[], script: string, about: string, spec: Spec): Flags<Spec> {
  const entries = Object.entries(spec).map(([key, s]) => ({ key, s, flag: s.flag ?? kebab(key) }));
  const usageLine = entries
    .map(({ s, flag }) => {
      switch (s.kind) {
        case 'int':
          return `[--${flag} N]`;
        case 'string':
          return `[--${flag} ${s.meta ?? 'VALUE'}]`;
        case 'choice':
          return `[--${flag} ${s.choices.join('|')}]`;
        case 'switch':
          return `[--${flag}]`;
        case 'list':
          return `[--${flag} ${s.meta ?? 'VALUE'}]...`;
      }
    })
    .join(' ');
  const usage = (message: string): never => {
    process.stderr.write(`${message}\nusage: node --import tsx ${script} ${usageLine}\n`);
    process.exit(2);
  };
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    const options = Object.fromEntries([
      ...entries.map(({ s, flag }) => [flag, { type: s.kind === 'switch' ? ('boolean' as const) : ('string' as const), multiple: s.kind === 'list' }]),
      ['help', { type: 'boolean' as const, short: 'h' }],
    ]);
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as typeof values;
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) usage(about);
  const out: Record<string, unknown> = {};
  for (const { key, s, flag } of entries) {
    const raw = values[flag];
    switch (s.kind) {
      case 'int': {
        const n = Number(raw);
        if (raw === undefined) out[key] = s.default;
        else if (!Number.isInteger(n) || n < s.min) usage(`--${flag} needs an integer >= ${s.min}`);
        else out[key] = n;
        break;
      }
      case 'string':
        out[key] = raw ?? s.default;
        break;
      case 'choice':
        if (raw !== undefined && !s.choices.includes(raw as string)) usage(`--${flag} takes ${s.choices.join(' or ')}`);
        out[key] = raw ?? s.default;
        break;
      case 'switch':
        out[key] = raw === true ? !s.default : s.default;
        break;
      case 'list':
        out[key] = raw ?? [];
        break;
    }
  }
  return out as Flags<Spec>;
}
