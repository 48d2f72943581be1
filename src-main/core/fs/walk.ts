/**
 * fs/walk (local-protocol.md §7.8), reproducing 0.169.0's observable algorithm:
 *
 * - limits: `maxDirectories`/`maxEntries` of 0 → `filesystem walk limits must be greater than
 *   zero`; above depth 64 / 10 000 directories / 50 000 entries → `filesystem walk limits exceed
 *   maximums: …` (both -32600, checked before the path). `maxDepth: 0` is fine.
 * - the root is stat'ed following symlinks (missing or dangling → the OS error); a root that is a
 *   symlink while `followDirectorySymlinks` is false, or not a directory, gives an empty result.
 * - breadth-first; each directory's names are converted lossily (U+FFFD) and sorted as strings,
 *   then joined to the directory's path. That lossy path is what gets stat'ed, so a name that is
 *   not UTF-8 shows up in `errors` as `No such file or directory` (as on the reference).
 * - per name: lstat fails → an error entry (counted). A symlink is stat'ed through: unreachable
 *   targets are skipped silently (not counted); a link to a directory is listed as a directory
 *   only when following; links to anything else, and FIFOs/sockets/devices, are counted but not
 *   listed.
 * - counting: before a counted name, `count >= maxEntries` stops the whole walk with
 *   `truncated: true`; so does a 4 MiB budget on listed output (each entry costs its URI's length
 *   + 64 bytes), reproduced exactly from the binary's cut-off points.
 * - directories are queued (depth + 1) when their depth is below `maxDepth`, they are not hidden
 *   (`.name`) under `pruneHiddenDirectories`, and their canonical path was not queued before (so
 *   symlink cycles end). Before reading a queued directory, `directoriesRead >= maxDirectories`
 *   stops the walk with `truncated: true`; the root is the first directory read.
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import type { Dirent, Stats } from 'node:fs';
import { fsPath, nativePathFromBytes, toPathUri } from '../protocol/path-uri.ts';
import { FsFailure, errorMessage } from './fs-errors.ts';
import { childUri, compareCodePoints, joinPath, lossyName } from './fs-paths.ts';

export interface WalkOptions {
  maxDepth: number;
  maxDirectories: number;
  maxEntries: number;
  followDirectorySymlinks: boolean;
  pruneHiddenDirectories: boolean;
}

export interface WalkEntry {
  path: string;
  kind: 'file' | 'directory';
}

export interface WalkError {
  path: string;
  message: string;
}

export interface WalkResult {
  entries: WalkEntry[];
  errors: WalkError[];
  truncated: boolean;
}

export const WALK_MAX_DEPTH = 64;
export const WALK_MAX_DIRECTORIES = 10_000;
export const WALK_MAX_ENTRIES = 50_000;
/** Output budget: the sum of (URI length + WALK_ENTRY_OVERHEAD) over listed entries. */
export const WALK_OUTPUT_BUDGET = 4 * 1024 * 1024;
export const WALK_ENTRY_OVERHEAD = 64;
/** lstat/stat calls in flight while classifying one directory's names. */
const STAT_PARALLELISM = 256;

/** The limit checks, in the reference's order; throws -32600-class failures. */
export function validateWalkLimits(options: WalkOptions): void {
  if (options.maxDirectories === 0 || options.maxEntries === 0) {
    throw new FsFailure('InvalidInput', 'filesystem walk limits must be greater than zero');
  }
  if (options.maxDepth > WALK_MAX_DEPTH || options.maxDirectories > WALK_MAX_DIRECTORIES || options.maxEntries > WALK_MAX_ENTRIES) {
    throw new FsFailure(
      'InvalidInput',
      `filesystem walk limits exceed maximums: depth=${WALK_MAX_DEPTH}, directories=${WALK_MAX_DIRECTORIES}, entries=${WALK_MAX_ENTRIES}`,
    );
  }
}

type Classified =
  | { kind: 'error'; message: string }
  | { kind: 'skip' } // unreachable symlink target: not counted
  | { kind: 'counted' } // counted, not listed
  | { kind: 'file' }
  | { kind: 'directory' };

/** Classification by lstat (and stat through a symlink) of the path as joined. */
async function classifyByStat(path: string, follow: boolean): Promise<Classified> {
  let own: Stats;
  try {
    own = await lstat(fsPath(path));
  } catch (err) {
    return { kind: 'error', message: errorMessage(err) };
  }
  if (own.isSymbolicLink()) {
    let target: Stats;
    try {
      target = await stat(fsPath(path));
    } catch {
      return { kind: 'skip' };
    }
    return follow && target.isDirectory() ? { kind: 'directory' } : { kind: 'counted' };
  }
  if (own.isDirectory()) return { kind: 'directory' };
  if (own.isFile()) return { kind: 'file' };
  return { kind: 'counted' };
}

interface NameItem {
  /** The lossy name (what the reference sorts, joins and shows). */
  name: string;
  /** The lossy name is the name (valid UTF-8), so the directory entry's type describes `name`. */
  exact: boolean;
  dirent: Dirent;
}

const KNOWN: Classified[] = [{ kind: 'directory' }, { kind: 'file' }, { kind: 'counted' }];

/**
 * The directory entry's type when it is reliable (a UTF-8 name that is not a symlink) — the same
 * answer lstat would give, without a syscall per name; otherwise lstat/stat of the joined path.
 */
function classify(path: string, item: NameItem, follow: boolean): Classified | Promise<Classified> {
  const d = item.dirent;
  if (item.exact && !d.isSymbolicLink()) {
    if (d.isDirectory()) return KNOWN[0]!;
    if (d.isFile()) return KNOWN[1]!;
    if (d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice()) return KNOWN[2]!;
  }
  return classifyByStat(path, follow);
}

function nameItem(dirent: Dirent): NameItem {
  const raw = dirent.name as unknown as Buffer;
  const name = lossyName(raw);
  const exact = !name.includes('\ufffd') || Buffer.from(name, 'utf8').equals(raw);
  return { name, exact, dirent };
}

async function realpathOf(path: string): Promise<string | null> {
  try {
    return nativePathFromBytes(await realpath(fsPath(path), { encoding: 'buffer' }));
  } catch {
    return null;
  }
}

/** Walks `root` (a host path); limits must have been validated. */
export async function walk(root: string, options: WalkOptions, signal?: AbortSignal): Promise<WalkResult> {
  const result: WalkResult = { entries: [], errors: [], truncated: false };
  const rootStat = await stat(fsPath(root));
  if (!options.followDirectorySymlinks && (await lstat(fsPath(root))).isSymbolicLink()) return result;
  if (!rootStat.isDirectory()) return result;

  // Directories are keyed by their canonical path: a real subdirectory's is its parent's plus its
  // name, so realpath(3) is only needed for the root and for symlinks that are followed.
  const visited = new Set<string>();
  const rootKey = (await realpathOf(root)) ?? root;
  visited.add(rootKey);
  const queue: Array<{ path: string; key: string; depth: number }> = [{ path: root, key: rootKey, depth: 0 }];
  let directoriesRead = 0;
  let counted = 0;
  let budget = 0;

  for (let head = 0; head < queue.length; head++) {
    if (signal?.aborted) throw new FsFailure('Other', 'filesystem walk cancelled');
    const dir = queue[head]!;
    if (directoriesRead >= options.maxDirectories) {
      result.truncated = true;
      return result;
    }
    directoriesRead++;
    let items: NameItem[];
    try {
      const dirents = await readdir(fsPath(dir.path), { encoding: 'buffer', withFileTypes: true });
      items = (dirents as unknown as Dirent[]).map(nameItem).sort((a, b) => compareCodePoints(a.name, b.name));
    } catch (err) {
      result.errors.push({ path: toPathUri(dir.path), message: errorMessage(err) });
      continue;
    }
    const names = items.map((item) => item.name);
    const paths = names.map((name) => joinPath(dir.path, name));
    const dirUri = toPathUri(dir.path);

    for (let start = 0; start < names.length; start += STAT_PARALLELISM) {
      const end = Math.min(names.length, start + STAT_PARALLELISM);
      const kinds = await Promise.all(items.slice(start, end).map((item, k) => classify(paths[start + k]!, item, options.followDirectorySymlinks)));
      for (let i = start; i < end; i++) {
        const kind = kinds[i - start]!;
        if (kind.kind === 'skip') continue;
        if (counted >= options.maxEntries) {
          result.truncated = true;
          return result;
        }
        const path = paths[i]!;
        if (kind.kind === 'counted') {
          counted++;
          continue;
        }
        const uri = childUri(dirUri, names[i]!);
        const cost = uri.length + WALK_ENTRY_OVERHEAD;
        if (budget + cost > WALK_OUTPUT_BUDGET) {
          result.truncated = true;
          return result;
        }
        counted++;
        budget += cost;
        if (kind.kind === 'error') {
          result.errors.push({ path: uri, message: kind.message });
          continue;
        }
        result.entries.push({ path: uri, kind: kind.kind });
        if (kind.kind !== 'directory' || dir.depth >= options.maxDepth) continue;
        if (options.pruneHiddenDirectories && names[i]!.startsWith('.')) continue;
        const viaLink = !items[i]!.exact || items[i]!.dirent.isSymbolicLink() || !items[i]!.dirent.isDirectory();
        const key = viaLink ? await realpathOf(path) : joinPath(dir.key, names[i]!);
        if (key === null || visited.has(key)) continue;
        visited.add(key);
        queue.push({ path, key, depth: dir.depth + 1 });
      }
    }
  }
  return result;
}
