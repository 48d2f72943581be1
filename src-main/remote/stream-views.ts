/**
 * The StreamViews a remote link publishes (relay streams for Noise, connections for direct):
 * counters and session published at most every STREAM_UPDATE_INTERVAL_MS while traffic flows, a
 * closed view kept for CLOSED_STREAM_RETENTION_MS (and at most `maxClosed` of them) before
 * `streamRemoved`. Each link keeps its own fields next to the view in its entries.
 */
import type { StreamView } from '../control/contract.ts';
import type { LinkClock } from './link-clock.ts';
import type { RemoteLinkEvent } from './remote-link-types.ts';

/** How long a closed stream stays in the view before `streamRemoved`. */
export const CLOSED_STREAM_RETENTION_MS = 60_000;
/** Byte counters and the session id of open streams are published at most this often. */
export const STREAM_UPDATE_INTERVAL_MS = 250;

export interface ViewEntry {
  view: StreamView;
  updateTimer: unknown;
  removeTimer: unknown;
}

export interface StreamViewsOptions<E extends ViewEntry> {
  clock: LinkClock;
  emit: (event: RemoteLinkEvent) => void;
  /** Brings the entry's counters and session into its view; false when nothing changed. */
  refresh: (entry: E) => boolean;
  /** Closed views kept at most (the oldest go first). */
  maxClosed: number;
  retentionMs?: number;
}

export class StreamViews<E extends ViewEntry> {
  private readonly entries = new Map<string, E>();

  constructor(private readonly options: StreamViewsOptions<E>) {}

  get(streamId: string): E | undefined {
    return this.entries.get(streamId);
  }

  /** Copies of every view, oldest first. */
  list(): StreamView[] {
    return [...this.entries.values()].map((entry) => ({ ...entry.view }));
  }

  /** Adds `entry` as the newest, replacing (and silencing) an older entry of the same id. */
  add(entry: E): E {
    const streamId = entry.view.streamId;
    const old = this.entries.get(streamId);
    if (old) this.clearTimers(old);
    this.entries.delete(streamId);
    this.entries.set(streamId, entry);
    return entry;
  }

  publish(entry: E): void {
    this.options.emit({ type: 'stream', stream: { ...entry.view } });
  }

  /** Traffic happened: publish the refreshed view soon (at most once per interval). */
  scheduleUpdate(entry: E): void {
    if (entry.updateTimer !== null || entry.view.state === 'closed') return;
    entry.updateTimer = this.options.clock.setTimeout(() => {
      entry.updateTimer = null;
      if (entry.view.state !== 'closed' && this.options.refresh(entry)) this.publish(entry);
    }, STREAM_UPDATE_INTERVAL_MS, { weak: true });
  }

  /** Marks the view closed with `reason`, publishes it, and schedules its removal. */
  close(entry: E, reason: string): void {
    const { clock } = this.options;
    this.options.refresh(entry);
    this.clearTimers(entry);
    entry.view.state = 'closed';
    entry.view.closedAtMs = clock.now();
    entry.view.endReason = reason;
    this.publish(entry);
    const streamId = entry.view.streamId;
    entry.removeTimer = clock.setTimeout(() => this.remove(streamId, entry), this.options.retentionMs ?? CLOSED_STREAM_RETENTION_MS, { weak: true });
    const closed = [...this.entries.values()].filter((e) => e.view.state === 'closed');
    for (const oldest of closed.slice(0, Math.max(0, closed.length - this.options.maxClosed))) this.remove(oldest.view.streamId, oldest);
  }

  private remove(streamId: string, entry: E): void {
    if (this.entries.get(streamId) !== entry) return;
    this.clearTimers(entry);
    this.entries.delete(streamId);
    this.options.emit({ type: 'streamRemoved', streamId });
  }

  private clearTimers(entry: E): void {
    if (entry.updateTimer !== null) this.options.clock.clearTimeout(entry.updateTimer);
    if (entry.removeTimer !== null) this.options.clock.clearTimeout(entry.removeTimer);
    entry.updateTimer = entry.removeTimer = null;
  }
}
