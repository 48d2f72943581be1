/**
 * `fs/watchMissing` and `fs/missingChanged` (local-protocol.md §7.12), as 0.169.0 behaves:
 *
 * - one watch per connection. A `watchId` that is not greater than the last one this connection
 *   sent answers `watching: false` and changes nothing (the current watch keeps running).
 *   Otherwise the id is remembered, the current watch is cancelled, and a new one is installed
 *   unless: `missing` is empty, a path is not a path on this host, any missing path is there or
 *   cannot be checked (anything but ENOENT from lstat: a dangling symlink counts as present), or
 *   `present` is given and is not there. Those answer `watching: false`.
 * - it fires once (`fs/missingChanged {watchId}`), then it is gone, when: something happens at a
 *   missing path or at one of its ancestors (creating `d1` fires a watch on `d1/d2/f`; removing
 *   or chmod'ing the watched ancestor fires too); the `present` path changes or goes (written,
 *   chmod'ed, touched, removed; reading it does not fire); or the mount table changes (the
 *   reference polls /proc/self/mounts; any mount or unmount anywhere fires).
 * - it dies with the connection.
 *
 * Implementation: inotify through fs.watch on the nearest existing ancestor of each missing path
 * (an event for a child on the way to a missing path, or for the directory itself, fires), on the
 * `present` path itself, and a shared poll of /proc/self/mounts while any watch is armed. After
 * the watchers are installed the paths are checked again, so a path that appeared meanwhile is
 * not missed (the answer is then `watching: false`: the caller re-checks, as for any path that is
 * already there).
 */
import { watch, type FSWatcher } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { fsPath, nativePathFromBytes, type PathUri } from '../protocol/path-uri.ts';
import { hasCode } from './fs-errors.ts';
import { baseName, isSelfOrAncestor, joinPath, parentPath } from './fs-paths.ts';

export interface WatchRequest {
  watchId: bigint;
  missing: PathUri[];
  present: PathUri | null;
}

/** Sends `fs/missingChanged` for a fired watch. */
export type FireCallback = (watchId: bigint) => void;

// ---------------------------------------------------------------------------------------------
// Mount table changes

const MOUNTS_FILE = '/proc/self/mounts';
let mountsFile = MOUNTS_FILE;

/** Tests point the mount poller at a file they control (a real mount would disturb other tests). */
export function setMountsFileForTests(path: string | null): void {
  mountsFile = path ?? MOUNTS_FILE;
}
/** How often the mount table is compared while a watch is armed. */
export const MOUNT_POLL_MS = 250;

type MountListener = () => void;

/** One poller for the whole process, running only while some watch listens. */
class MountMonitor {
  private readonly listeners = new Set<MountListener>();
  private timer: NodeJS.Timeout | null = null;
  private snapshot: string | null = null;
  private reading = false;

  subscribe(listener: MountListener): () => void {
    this.listeners.add(listener);
    if (this.timer === null) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private start(): void {
    this.snapshot = null;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), MOUNT_POLL_MS);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.snapshot = null;
  }

  private async poll(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      let text: string;
      try {
        text = await readFile(mountsFile, 'latin1');
      } catch {
        return; // no /proc: mount changes are not watched (the reference logs and carries on)
      }
      if (this.timer === null) return;
      const before = this.snapshot;
      this.snapshot = text;
      if (before !== null && before !== text) for (const listener of [...this.listeners]) listener();
    } finally {
      this.reading = false;
    }
  }

  /** The current snapshot is taken before a watch is reported as armed. */
  async ready(): Promise<void> {
    while (this.snapshot === null && this.timer !== null) {
      const text = await readFile(mountsFile, 'latin1').catch(() => null);
      if (text === null) return;
      if (this.snapshot === null) this.snapshot = text;
    }
  }
}

const mounts = new MountMonitor();

// ---------------------------------------------------------------------------------------------
// One watch

/** What lstat says about a path for the watch: present, missing, or not checkable. */
async function presence(path: string): Promise<'present' | 'missing' | 'error'> {
  try {
    await lstat(fsPath(path));
    return 'present';
  } catch (err) {
    return hasCode(err, 'ENOENT') ? 'missing' : 'error';
  }
}

/** The closest ancestor of `path` that exists (lstat), or null if none can be found. */
async function nearestExistingAncestor(path: string): Promise<string | null> {
  let current = parentPath(path);
  while (current !== null) {
    const state = await presence(current);
    if (state === 'present') return current;
    if (state === 'error') return null;
    current = parentPath(current);
  }
  return null;
}

class MissingWatch {
  private readonly watchers: FSWatcher[] = [];
  private unsubscribeMounts: (() => void) | null = null;
  private done = false;
  /** Set when a change arrived before the watch was reported as armed. */
  changedEarly = false;
  armed = false;

  constructor(
    readonly watchId: bigint,
    private readonly missing: string[],
    private readonly present: string | null,
    private readonly onFire: FireCallback,
  ) {}

  /** Installs the watchers; false when one cannot be installed. */
  async install(): Promise<boolean> {
    const ancestors = new Set<string>();
    for (const path of this.missing) {
      const ancestor = await nearestExistingAncestor(path);
      if (ancestor === null) return false;
      ancestors.add(ancestor);
    }
    try {
      for (const dir of ancestors) this.watchPath(dir, (name) => this.onAncestorEvent(dir, name));
      if (this.present !== null) {
        const present = this.present;
        this.watchPath(present, (name) => this.onPresentEvent(present, name));
      }
    } catch {
      return false; // e.g. out of inotify watches, or the path vanished: not watching
    }
    this.unsubscribeMounts = mounts.subscribe(() => this.trigger());
    await mounts.ready();
    // Re-check after arming: a path (or a directory on the way) that appeared meanwhile.
    for (const path of this.missing) {
      if ((await presence(path)) !== 'missing') return false;
      const ancestor = await nearestExistingAncestor(path);
      if (ancestor === null || !ancestors.has(ancestor)) return false;
    }
    if (this.present !== null && (await presence(this.present)) !== 'present') return false;
    return !this.changedEarly;
  }

  private watchPath(path: string, onEvent: (name: string | null) => void): void {
    const watcher = watch(fsPath(path), { persistent: false, encoding: 'buffer' }, (_event, filename) => {
      onEvent(filename === null ? null : nativePathFromBytes(filename));
    });
    watcher.on('error', () => this.trigger());
    this.watchers.push(watcher);
  }

  /**
   * inotify reports events on the watched directory itself under the directory's own name
   * (libuv substitutes its basename), so that name is treated as "the directory itself": it is an
   * ancestor of the missing path, and any change to it fires.
   */
  private onAncestorEvent(dir: string, name: string | null): void {
    if (name === null || name === baseName(dir)) return this.trigger();
    const child = joinPath(dir, name);
    if (this.missing.some((m) => isSelfOrAncestor(child, m))) this.trigger();
  }

  private onPresentEvent(present: string, name: string | null): void {
    if (name === null || name === baseName(present)) return this.trigger();
    const child = joinPath(present, name);
    if (this.missing.some((m) => isSelfOrAncestor(child, m))) this.trigger();
  }

  private trigger(): void {
    if (this.done) return;
    if (!this.armed) {
      this.changedEarly = true;
      return;
    }
    this.dispose();
    this.onFire(this.watchId);
  }

  dispose(): void {
    if (this.done) return;
    this.done = true;
    for (const watcher of this.watchers.splice(0)) watcher.close();
    this.unsubscribeMounts?.();
    this.unsubscribeMounts = null;
  }
}

// ---------------------------------------------------------------------------------------------
// The connection's watch slot

export class MissingWatchSlot {
  private lastId = 0n;
  private current: MissingWatch | null = null;
  private closed = false;

  constructor(private readonly onFire: FireCallback) {}

  /** Handles one fs/watchMissing request; resolves with `watching`. */
  async watch(request: WatchRequest): Promise<boolean> {
    if (request.watchId <= this.lastId) return false;
    this.lastId = request.watchId;
    this.cancel();
    if (request.missing.length === 0) return false;
    let missing: string[];
    let present: string | null;
    try {
      missing = request.missing.map((uri) => uri.toNativePath());
      present = request.present === null ? null : request.present.toNativePath();
    } catch {
      return false;
    }
    for (const path of missing) if ((await presence(path)) !== 'missing') return false;
    if (present !== null && (await presence(present)) !== 'present') return false;

    const candidate = new MissingWatch(request.watchId, missing, present, (id) => {
      if (this.current === candidate) this.current = null;
      this.onFire(id);
    });
    // A newer request may have arrived while this one was checking paths (concurrent mode).
    if (this.closed || this.lastId !== request.watchId) return false;
    this.current = candidate;
    const ok = await candidate.install();
    if (!ok || this.closed || this.current !== candidate) {
      candidate.dispose();
      if (this.current === candidate) this.current = null;
      return false;
    }
    candidate.armed = true;
    return true;
  }

  private cancel(): void {
    this.current?.dispose();
    this.current = null;
  }

  /** The connection ended. */
  dispose(): void {
    this.closed = true;
    this.cancel();
  }

  /** For tests: whether a watch is armed. */
  get active(): boolean {
    return this.current !== null;
  }
}
