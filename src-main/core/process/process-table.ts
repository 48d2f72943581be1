/**
 * A session's processes (local-protocol.md §4, §6): start, read (long-poll), write, signal,
 * terminate, retention after close, and the three notifications.
 *
 * Notifications are delivered by calling `notify` synchronously, in seq order, from the child's
 * own events. After `closed` an entry stays `retentionMs` (80 s on 0.169.0), then is removed and
 * its id can be reused with seq starting again at 1. Timers are unref'd.
 */
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { DRAIN_POLL_MS } from '../rpc/method-table.ts';
import { buildChildEnv, type EnvPolicy, type ServerEnv } from './env-policy.ts';
import { SpawnError, spawnLocalProcess, type LocalProcess } from './local-process.ts';
import { OutputLog, type OutputChunk, type ProcessStream } from './output-log.ts';

export type { ProcessStream } from './output-log.ts';
export type { EnvPolicy } from './env-policy.ts';

export interface StartSpec {
  processId: string;
  argv: string[];
  /** Absolute native path, already decoded from the file: URI. */
  cwd: string;
  env: Record<string, string>;
  envPolicy: EnvPolicy | null;
  tty: boolean;
  pipeStdin: boolean;
  arg0: string | null;
}

export interface ReadRequest {
  processId: string;
  afterSeq: number;
  maxBytes: number | null;
  waitMs: number;
}

export interface ReadResult {
  chunks: Array<{ seq: number; stream: ProcessStream; chunk: string }>;
  nextSeq: number;
  exited: boolean;
  exitCode: number | null;
  closed: boolean;
  failure: null;
  sandboxDenied: boolean;
}

export type WriteStatus = 'accepted' | 'unknownProcess' | 'stdinClosed' | 'starting';

export type Notify = (method: 'process/output' | 'process/exited' | 'process/closed', params: object) => void;

export interface ProcessInfo {
  processId: string;
  pid: number;
  argv: string[];
  cwd: string;
  tty: boolean;
  state: 'running' | 'exited' | 'closed';
  exitCode: number | null;
  startedAtMs: number;
  exitedAtMs: number | null;
  /** Output bytes seen so far (all streams, including bytes no longer retained). */
  outputBytes: number;
}

export type ProcessEvent = 'started' | 'output' | 'exited' | 'closed' | 'removed';

export interface ProcessTableOptions {
  notify: Notify;
  /** How long a closed process stays readable; default 80 000 ms (the 0.169.0 binary). */
  retentionMs?: number;
  onChange?: (info: ProcessInfo, event: ProcessEvent) => void;
  /**
   * Whether the connection that receives the notifications has too much unsent data. While it
   * does, output reading is paused, so a flooding child blocks on its full pipe instead of
   * filling memory. Absent (or false while detached): never pause.
   */
  congested?: () => boolean;
  /** The environment an `envPolicy` inherits from, read at each start (default process.env). */
  inheritedEnv?: () => ServerEnv;
}


/** Retention after `closed` observed on 0.169.0 (removed 78–80 s after closed). */
export const DEFAULT_RETENTION_MS = 80_000;
/** Write ids remembered per process for idempotency. */
export const REMEMBERED_WRITE_IDS = 4096;

interface Entry {
  readonly processId: string;
  readonly spec: StartSpec;
  readonly log: OutputLog;
  readonly startedAtMs: number;
  proc: LocalProcess | undefined;
  state: 'running' | 'exited' | 'closed';
  exitCode: number | null;
  exitSeq: number | null;
  exitedAtMs: number | null;
  outputBytes: number;
  /** Insertion-ordered, so the oldest id is the first key. */
  readonly writeIds: Set<string>;
  /** Wake-ups for long-polls and terminateAll; each one is called on every event. */
  readonly watchers: Set<() => void>;
  retentionTimer: NodeJS.Timeout | undefined;
}

export class ProcessTable {
  private readonly entries = new Map<string, Entry>();
  private readonly notify: Notify;
  private readonly retentionMs: number;
  private readonly onChange: ((info: ProcessInfo, event: ProcessEvent) => void) | undefined;
  private readonly congested: (() => boolean) | undefined;
  private readonly inheritedEnv: (() => ServerEnv) | undefined;
  private readonly paused = new Set<Entry>();
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(options: ProcessTableOptions) {
    this.notify = options.notify;
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.onChange = options.onChange;
    this.congested = options.congested;
    this.inheritedEnv = options.inheritedEnv;
  }

  start(spec: StartSpec): { processId: string; sandboxType: 'none' } {
    if (spec.argv.length === 0) throw RpcError.invalidParams('argv must not be empty');
    if (this.entries.has(spec.processId)) throw RpcError.invalidRequest(`process ${spec.processId} already exists`);
    const entry: Entry = {
      processId: spec.processId,
      spec,
      log: new OutputLog(),
      startedAtMs: Date.now(),
      proc: undefined,
      state: 'running',
      exitCode: null,
      exitSeq: null,
      exitedAtMs: null,
      outputBytes: 0,
      writeIds: new Set(),
      watchers: new Set(),
      retentionTimer: undefined,
    };
    try {
      const env = buildChildEnv(spec.env, spec.envPolicy, this.inheritedEnv?.());
      entry.proc = spawnLocalProcess(
        { argv: spec.argv, cwd: spec.cwd, env, tty: spec.tty, pipeStdin: spec.pipeStdin, arg0: spec.arg0 },
        {
          output: (stream, bytes) => this.handleOutput(entry, stream, bytes),
          exited: (exitCode) => this.handleExited(entry, exitCode),
          closed: () => this.handleClosed(entry),
        },
      );
    } catch (err) {
      if (err instanceof SpawnError) throw new RpcError(ErrorCode.Internal, err.message);
      throw new RpcError(ErrorCode.Internal, err instanceof Error ? err.message : String(err));
    }
    this.entries.set(spec.processId, entry);
    this.changed(entry, 'started');
    return { processId: spec.processId, sandboxType: 'none' };
  }

  /**
   * Retained chunks after `afterSeq`. With `waitMs > 0` waits until there are some, the process
   * has closed, it has exited after `afterSeq`, or the deadline passes. An aborted `signal`
   * rejects with `signal.reason`.
   */
  read(req: ReadRequest, signal?: AbortSignal): Promise<ReadResult> {
    const entry = this.entries.get(req.processId);
    if (!entry) return Promise.reject(RpcError.invalidRequest(`unknown process id ${req.processId}`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (req.waitMs <= 0 || readReady(entry, req.afterSeq)) return Promise.resolve(snapshot(entry, req));
    return new Promise<ReadResult>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        entry.watchers.delete(wake);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = () => {
        if (!readReady(entry, req.afterSeq)) return;
        finish();
        resolve(snapshot(entry, req));
      };
      const onAbort = () => {
        finish();
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        finish();
        resolve(snapshot(entry, req));
      }, req.waitMs);
      timer.unref();
      entry.watchers.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  write(processId: string, bytes: Buffer, writeId: string): WriteStatus {
    const entry = this.entries.get(processId);
    if (!entry) return 'unknownProcess';
    const proc = entry.proc!;
    if (!proc.acceptsInput) return 'stdinClosed';
    if (entry.writeIds.has(writeId)) return 'accepted';
    entry.writeIds.add(writeId);
    if (entry.writeIds.size > REMEMBERED_WRITE_IDS) entry.writeIds.delete(entry.writeIds.values().next().value!);
    if (entry.state === 'running') proc.write(bytes);
    return 'accepted';
  }

  /** SIGINT to the child; unknown or exited processes are a no-op. */
  signal(processId: string): void {
    const entry = this.entries.get(processId);
    if (entry?.state === 'running') entry.proc!.interrupt();
  }

  /** SIGKILL to the process group if still running; `running` says whether it was. */
  terminate(processId: string): { running: boolean } {
    const entry = this.entries.get(processId);
    if (entry?.state !== 'running') return { running: false };
    entry.proc!.killGroup();
    if (this.paused.has(entry)) this.resumePaused(); // let its streams reach EOF
    return { running: true };
  }

  list(): ProcessInfo[] {
    return [...this.entries.values()].map(info);
  }

  /** The last `maxBytes` retained output bytes (all streams), or undefined for an unknown id. */
  tail(processId: string, maxBytes: number): Buffer | undefined {
    return this.entries.get(processId)?.log.tail(maxBytes);
  }

  /**
   * Kills every process group that may still have members (running processes, and exited ones
   * whose output is still held open) and resolves once every process has exited.
   */
  async terminateAll(): Promise<void> {
    this.resumePaused();
    const waits: Promise<void>[] = [];
    for (const entry of this.entries.values()) {
      if (entry.state === 'closed') continue;
      entry.proc!.killGroup();
      if (entry.state === 'running') {
        waits.push(
          new Promise<void>((resolve) => {
            const wake = () => {
              if (entry.state === 'running') return;
              entry.watchers.delete(wake);
              resolve();
            };
            entry.watchers.add(wake);
          }),
        );
      }
    }
    await Promise.all(waits);
  }

  private handleOutput(entry: Entry, stream: ProcessStream, bytes: Buffer): void {
    const chunk: OutputChunk = entry.log.append(stream, bytes);
    entry.outputBytes += bytes.length;
    this.send('process/output', { processId: entry.processId, seq: chunk.seq, stream, chunk: bytes.toString('base64') });
    this.wake(entry);
    this.changed(entry, 'output');
    if (this.congested?.() && entry.proc && !this.paused.has(entry)) {
      entry.proc.pauseOutput();
      this.paused.add(entry);
      this.watchDrain();
    }
  }

  private watchDrain(): void {
    if (this.drainTimer) return;
    this.drainTimer = setInterval(() => {
      if (this.congested?.()) return;
      this.resumePaused();
    }, DRAIN_POLL_MS);
    this.drainTimer.unref();
  }

  private resumePaused(): void {
    clearInterval(this.drainTimer);
    this.drainTimer = undefined;
    for (const entry of this.paused) entry.proc?.resumeOutput();
    this.paused.clear();
  }

  private handleExited(entry: Entry, exitCode: number): void {
    const seq = entry.log.takeSeq();
    entry.state = 'exited';
    entry.exitCode = exitCode;
    entry.exitSeq = seq;
    entry.exitedAtMs = Date.now();
    this.send('process/exited', { processId: entry.processId, seq, exitCode, sandboxDenied: false });
    this.wake(entry);
    this.changed(entry, 'exited');
  }

  private handleClosed(entry: Entry): void {
    const seq = entry.log.takeSeq();
    entry.state = 'closed';
    this.send('process/closed', { processId: entry.processId, seq });
    this.wake(entry);
    this.changed(entry, 'closed');
    entry.retentionTimer = setTimeout(() => {
      if (this.entries.get(entry.processId) !== entry) return;
      this.entries.delete(entry.processId);
      this.changed(entry, 'removed');
    }, this.retentionMs);
    entry.retentionTimer.unref();
  }

  private send(method: 'process/output' | 'process/exited' | 'process/closed', params: object): void {
    try {
      this.notify(method, params);
    } catch (err) {
      // A failing sink must not stop the process's bookkeeping (this runs in stream callbacks).
      process.emitWarning(`process notification ${method} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private wake(entry: Entry): void {
    for (const watcher of [...entry.watchers]) watcher();
  }

  private changed(entry: Entry, event: ProcessEvent): void {
    if (!this.onChange) return;
    try {
      this.onChange(info(entry), event);
    } catch (err) {
      process.emitWarning(`process onChange failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

function readReady(entry: Entry, afterSeq: number): boolean {
  return entry.log.hasChunksAfter(afterSeq) || entry.state === 'closed' || (entry.exitSeq !== null && afterSeq < entry.exitSeq);
}

function snapshot(entry: Entry, req: ReadRequest): ReadResult {
  const { chunks, nextSeq } = entry.log.read(req.afterSeq, req.maxBytes);
  return {
    chunks: chunks.map((c) => ({ seq: c.seq, stream: c.stream, chunk: c.bytes.toString('base64') })),
    nextSeq,
    exited: entry.state !== 'running',
    exitCode: entry.exitCode,
    closed: entry.state === 'closed',
    failure: null,
    sandboxDenied: false,
  };
}

function info(entry: Entry): ProcessInfo {
  return {
    processId: entry.processId,
    pid: entry.proc?.pid ?? 0,
    argv: entry.spec.argv,
    cwd: entry.spec.cwd,
    tty: entry.spec.tty,
    state: entry.state,
    exitCode: entry.exitCode,
    startedAtMs: entry.startedAtMs,
    exitedAtMs: entry.exitedAtMs,
    outputBytes: entry.outputBytes,
  };
}
