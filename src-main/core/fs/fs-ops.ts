/**
 * The one-shot filesystem operations of local-protocol.md §7.2–§7.10, with the semantics observed
 * on the 0.169.0 binary (the probes are summarised beside each function). Everything here works
 * on host paths (surrogateescape strings) and throws OS errors or FsFailure; fs-methods.ts maps
 * them to responses through toRpcError.
 */
import { constants as fsConstants, type Dirent, type BigIntStats } from 'node:fs';
import { copyFile, lstat, mkdir, opendir, readlink, realpath, rmdir, stat, symlink, unlink } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { displayPath, fsPath, nativePathFromBytes } from '../protocol/path-uri.ts';
import { FsFailure, hasCode, osError } from './fs-errors.ts';
import { closeFd, fstatFd, openFd, preadOnce, writeAll } from './fd-io.ts';
import { baseName, checkNoFollowAncestors, isSelfOrAncestor, joinPath, lossyName, nativeName, parentPath } from './fs-paths.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_TRUNC, O_NONBLOCK, O_NOFOLLOW } = fsConstants;

// ---------------------------------------------------------------------------------------------
// readFile

/**
 * The largest file fs/readFile can return: its base64 text plus the response envelope must fit in
 * one JavaScript string (V8's limit, ~512 Mi characters). Larger files are refused with a message
 * that points at fs/open + fs/readBlock (the reference has no limit but its 64 MiB client cap).
 */
export const READ_FILE_MAX_BYTES = Math.floor((bufferConstants.MAX_STRING_LENGTH - 4096) / 4) * 3;

/** Bytes per read(2) of a whole-file read (a threadpool job each, so the event loop stays free). */
const READ_CHUNK = 16 * 1024 * 1024;

export function notAFile(path: string): FsFailure {
  return new FsFailure('InvalidInput', `path \`${displayPath(path)}\` is not a file`);
}

const NOT_REGULAR = 'path is not a regular file';
const CONTAINS_SYMLINK = 'path contains a symbolic link';

function tooLarge(size: number): FsFailure {
  return new FsFailure(
    'Other',
    `fs/readFile cannot return ${size} bytes in one response (at most ${READ_FILE_MAX_BYTES}); read the file with fs/open and fs/readBlock`,
  );
}

/**
 * fs/readFile: the whole file (the caller base64-encodes it once). Opened with O_NONBLOCK so that a FIFO is
 * refused (`is not a file`) instead of blocking; `followSymlinks: false` refuses a symlink as the
 * last component (`Symbolic link loop (os error 40)`) or on the way (`Not a directory`), and
 * non-regular files with `path is not a regular file`.
 */
export async function readWholeFile(path: string, followSymlinks: boolean): Promise<Buffer> {
  if (!followSymlinks) await checkNoFollowAncestors(path);
  const fd = await openFd(fsPath(path), O_RDONLY | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW));
  try {
    const st = await fstatFd(fd);
    if (!st.isFile()) throw followSymlinks ? notAFile(path) : new FsFailure('InvalidInput', NOT_REGULAR);
    return await readWhole(fd, st.size);
  } finally {
    await closeFd(fd);
  }
}

/** Reads a regular file to its end into one buffer sized from fstat (grown if the file grew). */
async function readWhole(fd: number, size: number): Promise<Buffer> {
  if (size > READ_FILE_MAX_BYTES) throw tooLarge(size);
  let buf = Buffer.allocUnsafeSlow(size);
  let n = 0;
  for (;;) {
    if (n === buf.length) {
      // At the size fstat promised: one more read tells whether the file is longer (it grew, or
      // it is a /proc-style file that reports size 0).
      const probe = Buffer.allocUnsafe(64 * 1024);
      const got = await preadOnce(fd, probe, 0, probe.length, n);
      if (got === 0) break;
      if (n + got > READ_FILE_MAX_BYTES) throw tooLarge(n + got);
      const bigger = Buffer.allocUnsafeSlow(Math.min(READ_FILE_MAX_BYTES, Math.max(2 * buf.length, n + got + 64 * 1024)));
      buf.copy(bigger, 0, 0, n);
      probe.copy(bigger, n, 0, got);
      buf = bigger;
      n += got;
      continue;
    }
    const got = await preadOnce(fd, buf, n, Math.min(READ_CHUNK, buf.length - n), n);
    if (got === 0) break;
    n += got;
  }
  return n === buf.length ? buf : buf.subarray(0, n);
}

// ---------------------------------------------------------------------------------------------
// writeFile

/**
 * fs/writeFile: create (0666 & ~umask) or truncate, then write everything. Follows a symlink to
 * its target (a dangling one creates the target) unless `followSymlinks` is false. O_NONBLOCK
 * keeps a FIFO without a reader from hanging the connection (the reference blocks forever there;
 * exec-desk answers `No such device or address (os error 6)`).
 */
export async function writeFileData(path: string, data: Buffer, followSymlinks: boolean): Promise<void> {
  if (!followSymlinks) await checkNoFollowAncestors(path);
  const flags = O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | (followSymlinks ? 0 : O_NOFOLLOW);
  const fd = await openFd(fsPath(path), flags, 0o666);
  try {
    await writeAll(fd, data);
  } finally {
    await closeFd(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// createDirectory

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(fsPath(path))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Rust's `fs::create_dir_all`: mkdir; on NotFound create the parent first and retry; any other
 * failure is fine if a directory (following symlinks) is there now. So a dangling symlink or a
 * file in the way is `File exists`, a file on the way is `Not a directory`.
 */
export async function createDirAll(path: string): Promise<void> {
  try {
    await mkdir(fsPath(path));
    return;
  } catch (err) {
    if (!hasCode(err, 'ENOENT')) {
      if (await isDirectory(path)) return;
      throw err;
    }
  }
  const parent = parentPath(path);
  if (parent === null) throw new FsFailure('Other', 'failed to create whole tree');
  await createDirAll(parent);
  try {
    await mkdir(fsPath(path));
  } catch (err) {
    if (await isDirectory(path)) return;
    throw err;
  }
}

/**
 * fs/createDirectory. Without `followSymlinks` the reference walks the path component by
 * component: existing components must be real directories (`Not a directory` for a symlink or a
 * file, even the last one when recursive); non-recursive mkdir of an existing name is `File exists`.
 */
export async function createDirectory(path: string, recursive: boolean, followSymlinks: boolean): Promise<void> {
  if (followSymlinks) {
    if (recursive) await createDirAll(path);
    else await mkdir(fsPath(path));
    return;
  }
  if (!recursive) {
    await checkNoFollowAncestors(path);
    await mkdir(fsPath(path));
    return;
  }
  let prefix = '';
  for (const part of path.split('/')) {
    if (part === '') continue;
    prefix += `/${part}`;
    try {
      await mkdir(fsPath(prefix));
    } catch (err) {
      if (!hasCode(err, 'EEXIST')) throw err;
      const st = await lstat(fsPath(prefix));
      if (st.isSymbolicLink() || !st.isDirectory()) throw osError('ENOTDIR');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// getMetadata

export interface FsMetadata {
  isDirectory: boolean;
  isFile: boolean;
  isSymlink: boolean;
  size: number;
  createdAtMs: number;
  modifiedAtMs: number;
}

/** Milliseconds since the epoch, rounded down (a time before 1970 stays negative). */
function floorMs(ns: bigint): number {
  const q = ns / 1_000_000n;
  return Number(ns < 0n && q * 1_000_000n !== ns ? q - 1n : q);
}

/**
 * fs/getMetadata. Following symlinks (the default), 0.169.0 reports `createdAtMs: 0` and clamps a
 * pre-1970 `modifiedAtMs` to 0, while `isSymlink` describes the path itself. With
 * `followSymlinks: false` a symlink is refused (`-32600 path contains a symbolic link`) and the
 * times come from statx: the birth time, and negative times before 1970.
 */
export async function getMetadata(path: string, followSymlinks: boolean): Promise<FsMetadata> {
  if (followSymlinks) {
    const st = await stat(fsPath(path), { bigint: true });
    const own = await lstat(fsPath(path));
    return {
      isDirectory: st.isDirectory(),
      isFile: st.isFile(),
      isSymlink: own.isSymbolicLink(),
      size: Number(st.size),
      createdAtMs: 0,
      modifiedAtMs: st.mtimeNs < 0n ? 0 : floorMs(st.mtimeNs),
    };
  }
  await checkNoFollowAncestors(path);
  const st: BigIntStats = await lstat(fsPath(path), { bigint: true });
  if (st.isSymbolicLink()) throw new FsFailure('InvalidInput', CONTAINS_SYMLINK);
  return {
    isDirectory: st.isDirectory(),
    isFile: st.isFile(),
    isSymlink: false,
    size: Number(st.size),
    createdAtMs: floorMs(st.birthtimeNs),
    modifiedAtMs: floorMs(st.mtimeNs),
  };
}

// ---------------------------------------------------------------------------------------------
// canonicalize

/** realpath(3): every symlink and `..` resolved; the result as a host path. */
export async function canonicalize(path: string): Promise<string> {
  return nativePathFromBytes(await realpath(fsPath(path), { encoding: 'buffer' }));
}

// ---------------------------------------------------------------------------------------------
// readDirectory

export interface DirectoryEntry {
  fileName: string;
  isDirectory: boolean;
  isFile: boolean;
}

export const READ_DIRECTORY_MAX_ENTRIES = 50_000;

function hasKnownType(d: Dirent): boolean {
  return d.isFile() || d.isDirectory() || d.isSymbolicLink() || d.isFIFO() || d.isSocket() || d.isCharacterDevice() || d.isBlockDevice();
}

/** Iterates a directory in raw readdir order (fs.readdir would sort the names). */
async function* rawEntries(path: string): AsyncGenerator<{ name: Buffer; dirent: Dirent }> {
  const dir = await opendir(fsPath(path), { encoding: 'buffer' as BufferEncoding, bufferSize: 256 });
  for await (const dirent of dir) yield { name: dirent.name as unknown as Buffer, dirent };
}

/**
 * fs/readDirectory: raw directory order, names shown lossily (U+FFFD), symlinks reported by their
 * target's type and left out when the target cannot be reached (dangling, loop).
 */
export async function readDirectory(path: string): Promise<DirectoryEntry[]> {
  const entries: DirectoryEntry[] = [];
  for await (const { name, dirent } of rawEntries(path)) {
    let isDir = dirent.isDirectory();
    let isFile = dirent.isFile();
    if (dirent.isSymbolicLink() || !hasKnownType(dirent)) {
      try {
        const st = await stat(fsPath(joinPath(path, nativeName(name))));
        isDir = st.isDirectory();
        isFile = st.isFile();
      } catch {
        continue;
      }
    }
    entries.push({ fileName: lossyName(name), isDirectory: isDir, isFile });
  }
  if (entries.length > READ_DIRECTORY_MAX_ENTRIES) {
    throw new FsFailure('Other', `fs/readDirectory returned ${entries.length} entries; limit is ${READ_DIRECTORY_MAX_ENTRIES}`);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// remove

const UNLINK_BATCH = 32;

/** Removes a real directory and everything below it (symlinks inside are removed, not followed). */
async function removeTree(path: string, signal?: AbortSignal): Promise<void> {
  const children: Array<{ path: string; dirent: Dirent }> = [];
  for await (const { name, dirent } of rawEntries(path)) children.push({ path: joinPath(path, nativeName(name)), dirent });
  const files: string[] = [];
  for (const child of children) {
    signal?.throwIfAborted();
    let isDir = child.dirent.isDirectory();
    if (!hasKnownType(child.dirent)) {
      try {
        isDir = (await lstat(fsPath(child.path))).isDirectory();
      } catch (err) {
        if (hasCode(err, 'ENOENT')) continue;
        throw err;
      }
    }
    if (isDir) await removeTree(child.path, signal);
    else files.push(child.path);
  }
  for (let i = 0; i < files.length; i += UNLINK_BATCH) {
    signal?.throwIfAborted();
    await Promise.all(
      files.slice(i, i + UNLINK_BATCH).map((f) =>
        unlink(fsPath(f)).catch((err: unknown) => {
          if (!hasCode(err, 'ENOENT')) throw err;
        }),
      ),
    );
  }
  await rmdir(fsPath(path));
}

/**
 * fs/remove. Defaults (recursive, force, follow) remove a whole tree and ignore a missing path;
 * a symlink is removed, not its target. `followSymlinks: false` only works non-recursively
 * (`-32603 recursive no-follow removal is unsupported` otherwise) and refuses a symlink.
 */
export async function removePath(path: string, recursive: boolean, force: boolean, followSymlinks: boolean, signal?: AbortSignal): Promise<void> {
  if (!followSymlinks && recursive) throw new FsFailure('Other', 'recursive no-follow removal is unsupported');
  try {
    if (!followSymlinks) await checkNoFollowAncestors(path);
    const st = await lstat(fsPath(path));
    if (!followSymlinks && st.isSymbolicLink()) throw new FsFailure('InvalidInput', CONTAINS_SYMLINK);
    if (st.isDirectory()) {
      if (recursive) await removeTree(path, signal);
      else await rmdir(fsPath(path));
    } else {
      await unlink(fsPath(path));
    }
  } catch (err) {
    if (force && hasCode(err, 'ENOENT')) return;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// copy

/** realpath of the longest existing prefix, with the rest appended lexically. */
async function canonicalizeLoose(path: string): Promise<string> {
  try {
    return await canonicalize(path);
  } catch {
    const parent = parentPath(path);
    if (parent === null) return path;
    return joinPath(await canonicalizeLoose(parent), baseName(path));
  }
}

async function copySymlink(source: string, destination: string): Promise<void> {
  const target = await readlink(fsPath(source), { encoding: 'buffer' });
  await symlink(target, fsPath(destination));
}

/** Copies a file: content and mode (setuid included); a no-op when both name the same file. */
async function copyRegularFile(source: string, destination: string): Promise<void> {
  await copyFile(fsPath(source), fsPath(destination));
}

async function copyTree(source: string, destination: string, signal?: AbortSignal): Promise<void> {
  await createDirAll(destination);
  for await (const { name, dirent } of rawEntries(source)) {
    signal?.throwIfAborted();
    const from = joinPath(source, nativeName(name));
    const to = joinPath(destination, nativeName(name));
    let kind: 'dir' | 'file' | 'symlink' | 'other';
    if (hasKnownType(dirent)) {
      kind = dirent.isDirectory() ? 'dir' : dirent.isFile() ? 'file' : dirent.isSymbolicLink() ? 'symlink' : 'other';
    } else {
      const st = await lstat(fsPath(from));
      kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
    }
    if (kind === 'dir') await copyTree(from, to, signal);
    else if (kind === 'file') await copyRegularFile(from, to);
    else if (kind === 'symlink') await copySymlink(from, to);
    // FIFOs, sockets and devices inside a tree are skipped, as the reference does.
  }
}

/**
 * fs/copy. The source is not followed: a symlink is copied as a symlink (onto an existing name:
 * `File exists`). A directory needs `recursive: true` and must not contain the destination
 * (compared after resolving symlinks); its tree is merged into the destination (parents created,
 * directories merged, files overwritten, directory modes not kept). A file is copied with its mode.
 *
 * One deliberate difference: copying a file onto itself (or onto a symlink to itself) is a no-op;
 * the reference truncates the file to zero bytes.
 */
export async function copyPath(source: string, destination: string, recursive: boolean, signal?: AbortSignal): Promise<void> {
  const st = await lstat(fsPath(source));
  if (st.isSymbolicLink()) return copySymlink(source, destination);
  if (st.isDirectory()) {
    if (!recursive) throw new FsFailure('InvalidInput', 'fs/copy requires recursive: true when sourcePath is a directory');
    const [from, to] = await Promise.all([canonicalize(source), canonicalizeLoose(destination)]);
    if (isSelfOrAncestor(from, to)) throw new FsFailure('InvalidInput', 'fs/copy cannot copy a directory to itself or one of its descendants');
    return copyTree(source, destination, signal);
  }
  if (st.isFile()) return copyRegularFile(source, destination);
  throw new FsFailure('InvalidInput', 'fs/copy only supports regular files, directories, and symlinks');
}
