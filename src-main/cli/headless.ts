/**
 * The headless run behind `exec-desk [flags]`: an ExecutorRuntime serving the `--listen`
 * endpoint (websocket or stdio), plus — with `--dashboard` or `--no-ui` — the loopback control
 * server and the discovery file `exec-desk status` reads (control-surface.ts). The first stdout
 * line stays the bound URL exactly as `codex exec-server` prints it; the dashboard line goes to
 * stderr. Remote runs (`--remote …`) are hosted by the same runtime in remote-mode.ts.
 *
 * Why the control server is opt-in: a bare `exec-desk --listen …` is a drop-in for
 * `codex exec-server` and must behave like it (no second port, no file in the home directory,
 * nothing but the URL on stdout). `--no-ui` is exec-desk's own "headless executor" mode, so it
 * gets the control server (and hence `status --json`) without printing more on stdout.
 */
import { bindFailure, checkBindAllowed, packageVersion, type ServerOptions } from './options.ts';
import { controlServerWanted, openControlSurface, type ControlSurface } from './control-surface.ts';
import { ControlError } from '../control/control-error.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { ExecutorRuntime, type RemoteLinkFactory } from '../runtime/executor-runtime.ts';
import { SettingsStore } from '../runtime/settings-store.ts';
import { StdioPipe } from '../transport/stdio/stdio-pipe.ts';

export { DASHBOARD_LINE_PREFIX, controlServerWanted } from './control-surface.ts';

export interface HeadlessContext {
  env: NodeJS.ProcessEnv;
  /** Log sink (stderr). */
  log?: Logger;
  /**
   * The dashboard's Connect (remote settings entered in the control UI; credentials from the
   * environment or `$CODEX_HOME/auth.json`). Absent: remote commands answer `unavailable`.
   */
  createRemoteLink?: RemoteLinkFactory;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export async function runHeadless(options: ServerOptions, context: HeadlessContext): Promise<number> {
  const stdout = context.stdout ?? process.stdout;
  const stderr = context.stderr ?? process.stderr;
  if (options.listen.kind === 'ws') {
    const bindError = checkBindAllowed(options.listen, options.wsAuth);
    if (bindError) {
      stderr.write(bindError.stderr ?? '');
      return bindError.code;
    }
  }
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  const runtime = new ExecutorRuntime({
    host: 'headless',
    version: packageVersion(),
    // Headless settings live in memory: flags and env configure a run, the file is the desktop's.
    settings: new SettingsStore({ dir: null }),
    listen: options.listen.kind === 'ws' ? { host: options.listen.host, port: options.listen.port, auth: options.wsAuth } : undefined,
    concurrency: options.concurrentRequests,
    logSink: context.log ?? createLogger(),
    createRemoteLink: context.createRemoteLink,
  });
  const log = runtime.log;
  let control: ControlSurface | null = null;
  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason });
    await Promise.all([control?.close(), runtime.shutdown()]);
    finish(code);
  };
  const onSignal = (signal: string) => void stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const cleanup = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };

  // The control server comes up first, so a busy dashboard port fails before anything is printed.
  if (controlServerWanted(options)) {
    control = await openControlSurface(runtime, options, { env: context.env, stderr });
    if (!control) {
      await runtime.shutdown();
      cleanup();
      return 1;
    }
  }

  let listenUrl: string;
  if (options.listen.kind === 'stdio') {
    const pipe = new StdioPipe(process.stdin, process.stdout);
    pipe.onClose(() => void stop('stdin closed'));
    runtime.serve(pipe);
    listenUrl = 'stdio';
  } else {
    try {
      listenUrl = (await runtime.startListener()).url!;
    } catch (err) {
      const cause = err instanceof ControlError ? (err as Error & { cause?: unknown }).cause : err;
      const failure = bindFailure(cause);
      stderr.write(failure.stderr ?? '');
      await Promise.all([control?.close(), runtime.shutdown()]);
      cleanup();
      return failure.code;
    }
    stdout.write(`${listenUrl}\n`);
    if (options.exitOnStdinClose) {
      process.stdin.on('end', () => void stop('stdin closed'));
      process.stdin.on('error', () => void stop('stdin closed'));
      process.stdin.resume();
    }
  }
  control?.announce(listenUrl);

  const code = await finished;
  cleanup();
  return code;
}
