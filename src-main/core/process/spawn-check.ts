/**
 * Everything `process/start` checks before it forks, so that spawn failures are synchronous and
 * carry the reference's texts (local-protocol.md §6.1).
 *
 * Why check first: Node's `child_process.spawn` reports ENOENT/EACCES only on the next tick, and
 * node-pty reports exec failures as text on the terminal. Both run programs through glibc's
 * `execvp`, which retries an ENOEXEC file with `/bin/sh`; the reference (a musl build) reports
 * `Exec format error (os error 8)` instead. So the program is resolved here, the way the reference
 * resolves it, and its header is looked at.
 *
 * Two resolutions, both observed on the 0.169.0 binary:
 * - pipes: execvp semantics. A name with a slash is used as is (relative to cwd); otherwise every
 *   entry of the child's PATH is tried (default `/usr/local/bin:/bin:/usr/bin`, an empty entry is
 *   cwd); a candidate that exists but cannot be executed makes the final error EACCES instead of
 *   ENOENT.
 * - PTY: portable-pty's `search_path`, with its own texts (`Unable to spawn sh because:\nNo viable
 *   candidates found in PATH "/usr/bin:/bin"`). It needs a PATH in the child env, checks
 *   `./x`/`../x` against cwd only, and the working directory falls back to HOME when cwd is not a
 *   directory.
 */
import { accessSync, closeSync, constants as fsConstants, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute } from 'node:path';
import { osErrorMessage } from '../os-error.ts';

/** A spawn failure; `message` is the text the reference sends as the -32603 error message. */
export class SpawnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpawnError';
  }
}

/** musl's execvp search path, used when the child env has no PATH (`/usr/local/bin` proven on the binary). */
export const DEFAULT_SEARCH_PATH = '/usr/local/bin:/bin:/usr/bin';

function osError(code: string | NodeJS.ErrnoException): SpawnError {
  return new SpawnError(osErrorMessage(code));
}

/** Rust rejects NUL bytes before spawning; the two texts differ by where the NUL is. */
export function checkNoNul(argv: readonly string[], arg0: string | null, cwd: string, env: Readonly<Record<string, string>>): void {
  if (argv.some((a) => a.includes('\0')) || (arg0 !== null && arg0.includes('\0')) || cwd.includes('\0')) {
    throw new SpawnError('nul byte found in provided data');
  }
  for (const name of Object.keys(env)) {
    if (name.includes('\0') || env[name]!.includes('\0')) throw new SpawnError('data provided contains a nul byte');
  }
}

/** The working directory must be an existing directory (pipes). */
export function checkWorkingDirectory(cwd: string): void {
  let stats: Stats;
  try {
    stats = statSync(cwd);
  } catch (err) {
    throw osError(err as NodeJS.ErrnoException);
  }
  if (!stats.isDirectory()) throw osError('ENOTDIR');
}

/** Joins without normalizing, as the kernel would see it (and as Rust's Path::join displays it). */
function join(dir: string, name: string): string {
  if (isAbsolute(name)) return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

function statOrError(path: string): Stats | NodeJS.ErrnoException {
  try {
    return statSync(path);
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `program` for a pipe spawn; returns the path to exec (absolute, or cwd-joined). */
export function resolvePipeProgram(program: string, cwd: string, env: Readonly<Record<string, string>>): string {
  if (program === '') throw new SpawnError('missing program for pipe spawn');
  if (program.includes('/')) {
    const path = join(cwd, program);
    checkExecutable(path, cwd);
    return path;
  }
  const searchPath = Object.hasOwn(env, 'PATH') ? env.PATH! : DEFAULT_SEARCH_PATH;
  let sawEacces = false;
  for (const dir of searchPath.split(':')) {
    const path = join(cwd, dir === '' ? program : join(dir, program));
    const stats = statOrError(path);
    if (stats instanceof Error) {
      if (stats.code === 'ENOENT' || stats.code === 'ENOTDIR') continue;
      if (stats.code === 'EACCES') {
        sawEacces = true;
        continue;
      }
      throw osError(stats);
    }
    if (!stats.isFile() || !executable(path)) {
      sawEacces = true;
      continue;
    }
    checkExecutable(path, cwd);
    return path;
  }
  throw osError(sawEacces ? 'EACCES' : 'ENOENT');
}

/** The directory a PTY child starts in: cwd, or HOME (child env, then passwd) when cwd is not a directory. */
export function ptyWorkingDirectory(cwd: string, env: Readonly<Record<string, string>>): string {
  const stats = statOrError(cwd);
  if (!(stats instanceof Error) && stats.isDirectory()) return cwd;
  return Object.hasOwn(env, 'HOME') ? env.HOME! : passwdHome();
}

let cachedHome: string | undefined;
function passwdHome(): string {
  cachedHome ??= userInfo().homedir;
  return cachedHome;
}

let cachedShell: string | undefined;
/** The user's login shell from passwd: the reference's PTY children see it as SHELL unless env sets one. */
export function passwdShell(): string {
  cachedShell ??= userInfo().shell ?? '/bin/sh';
  return cachedShell;
}

function isDirectory(path: string): boolean {
  const stats = statOrError(path);
  return !(stats instanceof Error) && stats.isDirectory();
}

function exists(path: string): boolean {
  return !(statOrError(path) instanceof Error);
}

/**
 * Resolves `program` for a PTY spawn in `dir` (from `ptyWorkingDirectory`) with portable-pty's
 * rules and texts; returns an absolute path.
 */
export function resolvePtyProgram(program: string, dir: string, env: Readonly<Record<string, string>>): string {
  if (program === '') throw new SpawnError('missing program for PTY spawn');
  let path: string;
  if (isAbsolute(program)) {
    path = program;
  } else if (program === '.' || program === '..' || program.startsWith('./') || program.startsWith('../')) {
    path = join(dir, program);
    if (isDirectory(path)) throw new SpawnError(`Unable to spawn ${path} because it is a directory`);
    if (!executable(path)) throw new SpawnError(`Unable to spawn ${path} because it ${exists(path) ? 'is not executable' : 'does not exist'}`);
  } else {
    if (!Object.hasOwn(env, 'PATH')) throw new SpawnError(`Unable to spawn ${program} because:\nUnable to resolve the PATH`);
    const searchPath = env.PATH!;
    const problems: string[] = [];
    let found: string | undefined;
    for (const entry of searchPath.split(':')) {
      const candidate = join(join(dir, entry), program);
      if (isDirectory(candidate)) {
        problems.push(`${candidate} exists but is a directory`);
      } else if (executable(candidate)) {
        found = candidate;
        break;
      } else if (exists(candidate)) {
        problems.push(`${candidate} exists but is not executable`);
      }
    }
    if (found === undefined) {
      problems.push(`No viable candidates found in PATH ${rustDebugString(searchPath)}`);
      throw new SpawnError(`Unable to spawn ${program} because:\n${problems.join('.\n')}`);
    }
    path = found;
  }
  checkExecutable(path, dir);
  return path;
}

/** Rust's `{:?}` rendering of a string: quoted, with `"`, `\` and control characters escaped. */
export function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\0') out += '\\0';
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}

/**
 * Fails the way `execve(path)` would: ENOENT/ENOTDIR/ELOOP..., EACCES for directories, other
 * non-regular files and files without execute permission, ENOEXEC for files that are neither a
 * script nor an ELF image for this machine, and ENOENT for a script whose interpreter is missing.
 */
export function checkExecutable(path: string, cwd: string): void {
  const stats = statOrError(path);
  if (stats instanceof Error) throw osError(stats);
  if (!stats.isFile() || !executable(path)) throw osError('EACCES');
  const header = readHeader(path);
  if (header === undefined) return; // unreadable (e.g. mode 0111): let exec decide
  if (header.length >= 2 && header[0] === 0x23 && header[1] === 0x21) {
    checkInterpreter(header, cwd);
    return;
  }
  if (header.length >= 4 && header[0] === 0x7f && header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46) {
    if (!elfRunsHere(header)) throw osError('ENOEXEC');
    return;
  }
  if (!binfmtMiscHasHandlers()) throw osError('ENOEXEC');
}

function readHeader(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.allocUnsafe(256);
    return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function checkInterpreter(header: Buffer, cwd: string): void {
  let i = 2;
  while (i < header.length && (header[i] === 0x20 || header[i] === 0x09)) i++;
  let end = i;
  while (end < header.length && header[end] !== 0x20 && header[end] !== 0x09 && header[end] !== 0x0a && header[end] !== 0x00) end++;
  if (end === i) throw osError('ENOEXEC');
  const interpreter = join(cwd, header.subarray(i, end).toString());
  const stats = statOrError(interpreter);
  if (stats instanceof Error) throw osError(stats);
  if (!stats.isFile() || !executable(interpreter)) throw osError('EACCES');
}

// e_machine values a kernel on this arch runs natively or through its compat layer.
const ELF_MACHINES: Partial<Record<NodeJS.Architecture, number[]>> = {
  x64: [62, 3], // EM_X86_64, EM_386
  ia32: [3],
  arm64: [183, 40], // EM_AARCH64, EM_ARM
  arm: [40],
};

function elfRunsHere(header: Buffer): boolean {
  const machines = ELF_MACHINES[process.arch];
  if (machines === undefined) return true; // unknown arch: let the kernel decide
  if (header.length < 20) return false;
  const littleEndian = header[5] === 1;
  if (header[4] !== 1 && header[4] !== 2) return false;
  const machine = littleEndian ? header.readUInt16LE(18) : header.readUInt16BE(18);
  return machines.includes(machine);
}

/** Whether binfmt_misc may accept a file the checks above call ENOEXEC (then exec decides). */
function binfmtMiscHasHandlers(): boolean {
  try {
    return readdirSync('/proc/sys/fs/binfmt_misc').some((name) => name !== 'register' && name !== 'status');
  } catch {
    return false;
  }
}
