/**
 * One child process of `process/start` (local-protocol.md §6): spawned with pipes or under a PTY,
 * reporting output, exit and close, and taking stdin writes, SIGINT and group kills.
 *
 * Placement, as on the reference: the child leads a new session and process group
 * (pid == pgid == sid). Pipes: stdout and stderr are separate pipes, stdin is /dev/null unless
 * `pipeStdin`. PTY: 24 rows x 80 columns, one `pty` stream, the terminal is the controlling tty.
 *
 * Events: `exited` as soon as the child is reaped; `closed` once it has exited AND every output
 * stream hit EOF (a grandchild holding the pipe or terminal delays `closed`, never `exited`). No
 * timers or polling are involved in either: they fire from the child's own events.
 *
 * Exit codes: the status for normal exits; killed by a signal: 128+signo with pipes, 1 under a
 * PTY (both as the reference reports them).
 *
 * PTY specifics. node-pty's native `fork` is called directly rather than through its JS wrapper,
 * because the wrapper adds TERM and PWD to the child env and the reference sets neither. The child
 * env gets SHELL (the passwd login shell) unless env has one, as the reference's PTY children do.
 * `arg0` under a PTY runs the program through a one-line perl `exec {program} arg0, args...`
 * (perl-base is essential on Debian and ships with macOS), started with an empty environment that
 * it replaces with the child's. So does a `sub/x` program, which the reference looks up in PATH.
 * Terminal settings are node-pty's (IUTF8 off like the reference; node-pty also sets hupcl,
 * brkint, ixany, imaxbel and eol/eol2 0xff, which the reference's kernel-default termios lacks).
 *
 * Known differences that Node gives no way around:
 * - Pipe children see socketpairs (libuv's choice), not pipe(2) pipes: `[ -p /dev/stdout ]` is
 *   false, and the kernel buffers differ. Bytes and EOF behave the same.
 * - node-pty opens the terminal master without close-on-exec and Node cannot set it, so children
 *   spawned while another PTY process is open inherit that PTY's master descriptor. It does not
 *   delay anyone's EOF or exit; it only keeps that terminal allocated until they exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, openSync, closeSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ReadStream } from 'node:tty';
import type { ProcessStream } from './output-log.ts';
import {
  SpawnError,
  checkNoNul,
  checkWorkingDirectory,
  passwdShell,
  ptyWorkingDirectory,
  resolvePipeProgram,
  resolvePtyProgram,
} from './spawn-check.ts';
import { osErrorMessage } from '../os-error.ts';

export { SpawnError } from './spawn-check.ts';

export const PTY_ROWS = 24;
export const PTY_COLS = 80;

export interface LocalProcessSpec {
  argv: readonly string[];
  /** Absolute native path. */
  cwd: string;
  /** The complete child environment (already built from env + envPolicy). */
  env: Readonly<Record<string, string>>;
  tty: boolean;
  pipeStdin: boolean;
  arg0: string | null;
}

export interface LocalProcessHandlers {
  output(stream: ProcessStream, bytes: Buffer): void;
  /** Called once. */
  exited(exitCode: number): void;
  /** Called once, after `exited` and after the last `output`. */
  closed(): void;
}

export interface LocalProcess {
  readonly pid: number;
  readonly tty: boolean;
  /** tty, or pipes with `pipeStdin`. */
  readonly acceptsInput: boolean;
  readonly exitCode: number | null;
  readonly hasExited: boolean;
  readonly isClosed: boolean;
  /** Queues bytes for stdin / the terminal. Silently dropped once the input side is gone. */
  write(bytes: Buffer): void;
  /** SIGINT to the child itself. No-op after exit. */
  interrupt(): void;
  /** SIGKILL to the whole process group. */
  killGroup(): void;
  /** Stops reading the child's output (it blocks once the pipe or terminal buffer is full). */
  pauseOutput(): void;
  resumeOutput(): void;
}

/** Spawns the child. Throws `SpawnError` (message = the reference's text) synchronously on failure. */
export function spawnLocalProcess(spec: LocalProcessSpec, handlers: LocalProcessHandlers): LocalProcess {
  if (spec.argv.length === 0) throw new SpawnError('argv must not be empty');
  checkNoNul(spec.argv, spec.arg0, spec.cwd, spec.env);
  return spec.tty ? new PtyProcess(spec, handlers) : new PipeProcess(spec, handlers);
}

/** Shared bookkeeping: exited/closed exactly once and in that order. */
abstract class BaseProcess implements LocalProcess {
  abstract readonly pid: number;
  abstract readonly tty: boolean;
  abstract readonly acceptsInput: boolean;
  exitCode: number | null = null;
  hasExited = false;
  isClosed = false;
  protected outputDone = false;

  constructor(protected readonly handlers: LocalProcessHandlers) {}

  abstract write(bytes: Buffer): void;
  abstract pauseOutput(): void;
  abstract resumeOutput(): void;

  interrupt(): void {
    if (this.hasExited) return;
    try {
      process.kill(this.pid, 'SIGINT');
    } catch {
      /* already gone */
    }
  }

  killGroup(): void {
    // A PTY child may not have called setsid() yet (node-pty's fork returns before the child
    // does): then there is no group `pid` yet, so kill the child itself as well.
    if (!this.hasExited) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      /* group already empty */
    }
  }

  protected onExit(exitCode: number): void {
    if (this.hasExited) return;
    this.hasExited = true;
    this.exitCode = exitCode;
    this.handlers.exited(exitCode);
    this.maybeClosed();
  }

  protected onOutputDone(): void {
    if (this.outputDone) return;
    this.outputDone = true;
    this.maybeClosed();
  }

  private maybeClosed(): void {
    if (!this.hasExited || !this.outputDone || this.isClosed) return;
    this.isClosed = true;
    this.handlers.closed();
  }
}

const ignore = () => {};

class PipeProcess extends BaseProcess {
  readonly pid: number;
  readonly tty = false;
  readonly acceptsInput: boolean;
  private readonly child: ChildProcess;
  private outputs: Array<{ pause(): unknown; resume(): unknown }> = [];

  pauseOutput(): void {
    for (const stream of this.outputs) stream.pause();
  }

  resumeOutput(): void {
    for (const stream of this.outputs) stream.resume();
  }

  constructor(spec: LocalProcessSpec, handlers: LocalProcessHandlers) {
    super(handlers);
    checkWorkingDirectory(spec.cwd);
    const program = resolvePipeProgram(spec.argv[0]!, spec.cwd, spec.env);
    let child: ChildProcess;
    try {
      child = spawn(program, spec.argv.slice(1), {
        argv0: spec.arg0 ?? spec.argv[0]!,
        cwd: spec.cwd,
        env: sortedEnv(spec.env),
        detached: true,
        stdio: [spec.pipeStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      throw new SpawnError(osErrorMessage(err as NodeJS.ErrnoException));
    }
    child.on('error', ignore); // the spawn failure below, or a failed kill
    if (child.pid === undefined) throw lateSpawnFailure(() => {
      checkWorkingDirectory(spec.cwd);
      resolvePipeProgram(spec.argv[0]!, spec.cwd, spec.env);
    });
    this.child = child;
    this.pid = child.pid;
    this.acceptsInput = spec.pipeStdin;
    child.stdin?.on('error', ignore); // EPIPE once the child stops reading
    child.stdout!.on('data', (bytes: Buffer) => handlers.output('stdout', bytes));
    this.outputs = [child.stdout!, child.stderr!];
    child.stderr!.on('data', (bytes: Buffer) => handlers.output('stderr', bytes));
    child.stdout!.on('error', ignore);
    child.stderr!.on('error', ignore);
    child.on('exit', (code, signal) => this.onExit(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0)));
    // ChildProcess 'close' = exited and both output pipes closed (after their last 'data').
    child.on('close', () => this.onOutputDone());
  }

  write(bytes: Buffer): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded || bytes.length === 0) return;
    stdin.write(bytes);
  }
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The env in name order: the reference's children get their environment sorted (Rust keeps it in
 * a BTreeMap), and `env` shows it. (An object still lists integer-like names first; such names
 * are not valid shell variables anyway.)
 */
function sortedEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const name of Object.keys(env).sort(byCodeUnits)) out[name] = env[name]!;
  return out;
}

/**
 * Node's spawn reports EACCES/ENOENT/EAGAIN/EMFILE/ENFILE only on the next tick, and the checks
 * before spawning passed, so say what is likeliest: a check that fails now (a race), running out
 * of descriptors, or a denial the checks cannot see (noexec mount, LSM).
 */
function lateSpawnFailure(recheck: () => void): SpawnError {
  try {
    recheck();
  } catch (err) {
    if (err instanceof SpawnError) return err;
  }
  try {
    closeSync(openSync('/dev/null', 'r'));
  } catch (err) {
    return new SpawnError(osErrorMessage(err as NodeJS.ErrnoException));
  }
  return new SpawnError(osErrorMessage('EACCES'));
}

// ---------------------------------------------------------------------------------------------
// PTY

interface NativePty {
  fork(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    cols: number,
    rows: number,
    uid: number,
    gid: number,
    utf8: boolean,
    helperPath: string,
    onExit: (code: number, signal: number) => void,
  ): { fd: number; pid: number; pty: string };
}

let nativePty: { module: NativePty; helperPath: string } | undefined;

function loadNativePty(): { module: NativePty; helperPath: string } {
  if (nativePty) return nativePty;
  const require = createRequire(import.meta.url);
  const utilsPath = require.resolve('node-pty/lib/utils.js');
  const utils = require(utilsPath) as { loadNativeModule(name: string): { dir: string; module: NativePty } };
  const native = utils.loadNativeModule('pty');
  // Only macOS uses the helper; the path must still be a string. Packaged apps unpack it from asar.
  const helperPath = resolve(dirname(utilsPath), native.dir, 'spawn-helper')
    .replace('app.asar', 'app.asar.unpacked')
    .replace('node_modules.asar', 'node_modules.asar.unpacked');
  nativePty = { module: native.module, helperPath };
  return nativePty;
}

/** Sets %ENV from `count` `NAME=value` arguments, then execs `program` with the rest as argv. */
const PERL_EXEC_ARG0 =
  'my $f = shift @ARGV; my $n = shift @ARGV; %ENV = ();' +
  ' for (1 .. $n) { my $kv = shift @ARGV; my $i = index($kv, "="); $ENV{substr($kv, 0, $i)} = substr($kv, $i + 1); }' +
  ' exec { $f } @ARGV; print STDERR "$f: $!\\n"; exit 127;';

let perlPath: string | null | undefined;

/** Where perl is (the server's PATH, then the usual places), or null. */
export function findPerl(): string | null {
  if (perlPath !== undefined) return perlPath;
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/bin', '/usr/local/bin'];
  perlPath = null;
  for (const dir of dirs) {
    try {
      accessSync(`${dir}/perl`, fsConstants.X_OK);
      perlPath = `${dir}/perl`;
      break;
    } catch {
      /* next */
    }
  }
  return perlPath;
}

class PtyProcess extends BaseProcess {
  readonly pid: number;
  readonly tty = true;
  readonly acceptsInput = true;
  private readonly fd: number;
  private readonly socket: ReadStream;

  pauseOutput(): void {
    this.socket.pause();
  }

  resumeOutput(): void {
    this.socket.resume();
  }
  private terminalOpen = true;
  /** Work waiting for the child's exit (closing the master, see the constructor). */
  private readonly afterExit: Array<() => void> = [];
  private pending: Buffer[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 1;

  constructor(spec: LocalProcessSpec, handlers: LocalProcessHandlers) {
    super(handlers);
    const dir = ptyWorkingDirectory(spec.cwd, spec.env);
    const program = resolvePtyProgram(spec.argv[0]!, dir, spec.env);
    const env0 = Object.hasOwn(spec.env, 'SHELL') ? spec.env : { ...spec.env, SHELL: passwdShell() };
    const envPairs = Object.keys(env0)
      .sort(byCodeUnits)
      .map((name) => `${name}=${env0[name]}`);

    let file: string;
    let args: string[];
    let env: string[];
    const name = spec.argv[0]!;
    // The child's execvp finds the same file as `program` for a bare name (same PATH, same cwd),
    // an absolute path or ./x. A name like `sub/x` is searched in PATH by the reference but would
    // be taken relative to cwd by execvp, so it goes through the helper like an explicit arg0.
    const execvpFindsIt = !name.includes('/') || name.startsWith('/') || name.startsWith('./') || name.startsWith('../');
    const arg0 = spec.arg0 ?? (execvpFindsIt ? null : name);
    if (arg0 === null) {
      file = name;
      args = spec.argv.slice(1);
      env = envPairs;
    } else {
      const perl = findPerl();
      if (perl === null) throw new SpawnError('arg0 under a pty needs perl, which was not found on this host');
      file = perl;
      args = ['-e', PERL_EXEC_ARG0, '--', program, String(envPairs.length), ...envPairs, arg0, ...spec.argv.slice(1)];
      env = [];
    }

    const native = loadNativePty();
    let term: { fd: number; pid: number };
    try {
      term = native.module.fork(file, args, env, dir, PTY_COLS, PTY_ROWS, -1, -1, false, native.helperPath, (code, signal) => {
        this.onExit(signal !== 0 ? 1 : code);
        for (const release of this.afterExit.splice(0)) release();
      });
    } catch (err) {
      throw new SpawnError(err instanceof Error ? err.message : String(err));
    }
    this.pid = term.pid;
    this.fd = term.fd;
    this.socket = new ReadStream(term.fd);
    // The stream closes the master when it is destroyed, at the output's EOF or EIO. That hangs up
    // the terminal: a child that has closed its side but not yet exited (cat after ^D) would die
    // of SIGHUP and report 1 instead of its own status. So the master stays open until the exit.
    const destroyNow = this.socket._destroy.bind(this.socket);
    this.socket._destroy = (error, callback) => {
      if (this.hasExited) destroyNow(error, callback);
      else this.afterExit.push(() => destroyNow(error, callback));
    };
    this.socket.on('data', (bytes: Buffer) => handlers.output('pty', bytes));
    // libuv ends the stream early: on POLLHUP after a partial read it reports EOF without reading
    // on, and a pty master always reads partially (at most ~4 KiB a time), so the tail of the
    // output would be lost. The slave side is closed by then, so the rest is all in the kernel:
    // read it out here, while the descriptor is still open ('end' comes before the close).
    this.socket.on('end', () => this.drain());
    // EIO once every slave descriptor is closed and the buffer is empty: the terminal's EOF.
    this.socket.on('error', ignore);
    this.socket.on('close', () => {
      this.terminalOpen = false;
      this.pending = [];
      clearTimeout(this.retryTimer);
      this.onOutputDone();
    });
  }

  private drain(): void {
    const scratch = Buffer.allocUnsafe(65_536);
    for (;;) {
      let n: number;
      try {
        n = readSync(this.fd, scratch, 0, scratch.length, null);
      } catch {
        return; // EIO: empty and closed (EAGAIN cannot happen once the slave side is gone)
      }
      if (n <= 0) return;
      this.handlers.output('pty', Buffer.from(scratch.subarray(0, n)));
    }
  }

  write(bytes: Buffer): void {
    if (!this.terminalOpen || bytes.length === 0) return;
    this.pending.push(bytes);
    if (this.pending.length === 1) this.flush();
  }

  /**
   * Writes synchronously on the non-blocking master, on the main thread, so a write can never hit
   * a descriptor number that the read stream has already closed and the OS has reused. When the
   * terminal's input buffer is full (the child is not reading) it retries with a growing delay.
   */
  private flush(): void {
    this.retryTimer = undefined;
    while (this.terminalOpen && this.pending.length > 0) {
      const head = this.pending[0]!;
      let written: number;
      try {
        written = writeSync(this.fd, head);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          this.retryTimer = setTimeout(() => this.flush(), this.retryDelayMs);
          this.retryTimer.unref();
          this.retryDelayMs = Math.min(this.retryDelayMs * 2, 50);
          return;
        }
        this.pending = []; // EIO: the terminal is going away
        return;
      }
      this.retryDelayMs = 1;
      if (written >= head.length) this.pending.shift();
      else this.pending[0] = head.subarray(written);
    }
  }
}
