/**
 * Processes across all sessions as the UI sees them: state from the process tables' change
 * events, plus a bounded tail of output decoded for display. Output changes are sampled, at
 * most one update per `intervalMs` per process (the last one is never lost: a trailing update
 * fires when the interval ends); state changes go out at once. Output is never copied whole.
 */
import type { ProcessView } from '../control/contract.ts';
import type { ProcessChange } from '../core/exec-server.ts';
import type { ProcessTable } from '../core/process/process-table.ts';

export const TAIL_BYTES = 4096;
export const SAMPLE_INTERVAL_MS = 100;
/** argv is for display: long inline scripts are cut so every update stays small. */
export const MAX_ARGV_ENTRIES = 64;
export const MAX_ARG_CHARS = 1024;

export interface ProcessSamplerOptions {
  tailBytes?: number;
  intervalMs?: number;
  publish: (event: { type: 'process'; process: ProcessView } | { type: 'processRemoved'; sessionId: string; processId: string }) => void;
  now?: () => number;
  /** Cleans text shown to people (argv, tail) of known secrets. */
  clean?: (text: string) => string;
}

interface Tracked {
  sessionId: string;
  table: ProcessTable;
  info: ProcessChange['info'];
  lastPublishedMs: number;
  timer: NodeJS.Timeout | null;
}

export class ProcessSampler {
  private readonly tracked = new Map<string, Tracked>();
  private readonly tailBytes: number;
  private readonly intervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ProcessSamplerOptions) {
    this.tailBytes = options.tailBytes ?? TAIL_BYTES;
    this.intervalMs = options.intervalMs ?? SAMPLE_INTERVAL_MS;
    this.now = options.now ?? Date.now;
  }

  /** Feeds one change from the exec-server. */
  change(change: ProcessChange): void {
    const key = keyOf(change.sessionId, change.info.processId);
    if (change.event === 'removed') {
      const tracked = this.tracked.get(key);
      if (!tracked || tracked.table !== change.table) return;
      if (tracked.timer) clearTimeout(tracked.timer);
      this.tracked.delete(key);
      this.options.publish({ type: 'processRemoved', sessionId: change.sessionId, processId: change.info.processId });
      return;
    }
    let tracked = this.tracked.get(key);
    if (!tracked || tracked.table !== change.table) {
      if (tracked?.timer) clearTimeout(tracked.timer);
      tracked = { sessionId: change.sessionId, table: change.table, info: change.info, lastPublishedMs: 0, timer: null };
      this.tracked.set(key, tracked);
    }
    tracked.info = change.info;
    if (change.event !== 'output') return this.publishNow(tracked);
    if (tracked.timer) return; // a trailing update is already scheduled
    const wait = tracked.lastPublishedMs + this.intervalMs - this.now();
    if (wait <= 0) return this.publishNow(tracked);
    tracked.timer = setTimeout(() => {
      tracked.timer = null;
      if (this.tracked.get(key) === tracked) this.publishNow(tracked);
    }, wait);
    tracked.timer.unref();
  }

  find(sessionId: string, processId: string): { table: ProcessTable; info: ProcessChange['info'] } | undefined {
    return this.tracked.get(keyOf(sessionId, processId));
  }

  /** Every process, with fresh tails. */
  list(): ProcessView[] {
    return [...this.tracked.values()].map((t) => this.view(t));
  }

  /** Processes listed per session id. */
  countsBySession(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const t of this.tracked.values()) counts.set(t.sessionId, (counts.get(t.sessionId) ?? 0) + 1);
    return counts;
  }

  dispose(): void {
    for (const t of this.tracked.values()) if (t.timer) clearTimeout(t.timer);
    this.tracked.clear();
  }

  private publishNow(tracked: Tracked): void {
    if (tracked.timer) clearTimeout(tracked.timer);
    tracked.timer = null;
    tracked.lastPublishedMs = this.now();
    this.options.publish({ type: 'process', process: this.view(tracked) });
  }

  private view(t: Tracked): ProcessView {
    const info = t.info;
    const tail = t.table.tail(info.processId, this.tailBytes);
    const clean = this.options.clean ?? ((text: string) => text);
    return {
      sessionId: t.sessionId,
      processId: info.processId,
      pid: info.pid,
      argv: displayArgv(info.argv).map(clean),
      cwd: info.cwd,
      tty: info.tty,
      state: info.state,
      exitCode: info.exitCode,
      startedAtMs: info.startedAtMs,
      exitedAtMs: info.exitedAtMs,
      tail: tail ? clean(decodeTail(tail)) : '',
      outputBytes: info.outputBytes,
    };
  }
}

/** At most MAX_ARGV_ENTRIES entries of at most MAX_ARG_CHARS characters, with what was cut said. */
export function displayArgv(argv: readonly string[]): string[] {
  const shown = argv.slice(0, MAX_ARGV_ENTRIES).map((a) => (a.length > MAX_ARG_CHARS ? `${a.slice(0, MAX_ARG_CHARS)}… (${a.length - MAX_ARG_CHARS} more characters)` : a));
  if (argv.length > MAX_ARGV_ENTRIES) shown.push(`… (${argv.length - MAX_ARGV_ENTRIES} more arguments)`);
  return shown;
}

function keyOf(sessionId: string, processId: string): string {
  return `${sessionId}\u0000${processId}`;
}

/** UTF-8, lossy, without a torn first character (the cut may fall inside one). */
export function decodeTail(bytes: Buffer): string {
  let start = 0;
  while (start < bytes.length && start < 3 && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}
