/**
 * The headless run behind `exec-desk [flags]`: an ExecutorRuntime serving the `--listen`
 * endpoint (websocket or stdio), plus — with `--dashboard` or `--no-ui` — the loopback control
 * server and the discovery file `exec-desk status` reads. The first stdout line stays the bound
 * URL exactly as `codex exec-server` prints it; the dashboard line goes to stderr.
 *
 * Why the control server is opt-in: a bare `exec-desk --listen …` is a drop-in for
 * `codex exec-server` and must behave like it (no second port, no file in the home directory,
 * nothing but the URL on stdout). `--no-ui` is exec-desk's own "headless executor" mode, so it
 * gets the control server (and hence `status --json`) without printing more on stdout.
 */
import { bindFailure, checkBindAllowed, packageVersion, type ServerOptions } from './options.ts';
import { ControlError } from '../control/control-error.ts';
import { ControlServer } from '../control/control-server.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { ExecutorRuntime, type RemoteLinkFactory } from '../runtime/executor-runtime.ts';
import { execDeskHome, removeDiscovery, writeDiscovery } from '../runtime/instance-discovery.ts';
import { SettingsStore } from '../runtime/settings-store.ts';
import { StdioPipe } from '../transport/stdio/stdio-pipe.ts';

export interface HeadlessContext {
  env: NodeJS.ProcessEnv;
  /** Log sink (stderr). */
  log?: Logger;
  /** Remote mode (another module builds the link from its flags). */
  createRemoteLink?: RemoteLinkFactory;
  /** Start the remote link at once (remote mode). */
  connectRemote?: boolean;
  /** Serve `options.listen` (default true); remote mode turns it off, as `--remote` conflicts with `--listen`. */
  serveLocal?: boolean;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Prefix of the stderr line that carries the dashboard URL. */
export const DASHBOARD_LINE_PREFIX = 'exec-desk dashboard: ';

export function controlServerWanted(options: ServerOptions): boolean {
  return options.dashboard !== null || options.noUi;
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
    onRemoteFatal: (fatal) => {
      stderr.write(`Error: ${fatal.message}\n`);
      void stop('remote link failed', fatal.code);
    },
  });
  const log = runtime.log;
  const home = execDeskHome(context.env);
  let control: ControlServer | null = null;
  let stopping = false;
  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { reason });
    removeDiscovery(home, process.pid);
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
    try {
      control = await ControlServer.start({
        target: runtime,
        port: options.dashboard?.port ?? 0,
        log,
        onToken: (token) => log.redactor.addSecret(token),
      });
    } catch (err) {
      stderr.write(`Error: cannot start the dashboard on 127.0.0.1:${options.dashboard?.port ?? 0}: ${(err as Error).message}\n`);
      await runtime.shutdown();
      cleanup();
      return 1;
    }
  }

  let listenUrl: string | null = null;
  if (context.serveLocal === false) {
    // remote mode: streams arrive through the link only
  } else if (options.listen.kind === 'stdio') {
    const pipe = new StdioPipe(process.stdin, process.stdout);
    pipe.onClose(() => void stop('stdin closed'));
    runtime.serve(pipe);
    listenUrl = 'stdio';
  } else {
    try {
      listenUrl = (await runtime.startListener()).url;
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

  if (control) {
    try {
      writeDiscovery(home, {
        schemaVersion: 1,
        pid: process.pid,
        version: packageVersion(),
        startedAtMs: Date.now(),
        controlUrl: control.controlUrl,
        dashboardUrl: control.dashboardUrl,
        token: control.token,
        listenUrl,
      });
    } catch (err) {
      log.warn('cannot write the discovery file; `exec-desk status` will not find this instance', { error: (err as Error).message });
    }
    // Printed, never logged: the fragment carries the token.
    stderr.write(`${DASHBOARD_LINE_PREFIX}${control.dashboardUrl}\n`);
  }
  if (context.connectRemote) {
    try {
      runtime.connectRemote();
    } catch (err) {
      stderr.write(`Error: ${(err as Error).message}\n`);
      await stop('remote link could not start', 1);
    }
  }

  const code = await finished;
  cleanup();
  return code;
}
