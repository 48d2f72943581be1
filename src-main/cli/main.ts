/**
 * Headless entry: `exec-desk [flags]` serves the exec-server on a local websocket or stdio,
 * flag-compatible with `codex exec-server`. Prints the bound URL as the first stdout line,
 * logs to stderr, and on SIGTERM/SIGINT kills every managed process and exits 0.
 */
import { bindFailure, checkBindAllowed, parseCli, type ServerOptions } from './options.ts';
import { ExecServer } from '../core/exec-server.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { LocalListener } from '../transport/local/http-listener.ts';
import { StdioPipe } from '../transport/stdio/stdio-pipe.ts';
import { processIo, runRemoteMode } from './remote-mode.ts';

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const outcome = await parseCli(argv, env);
  if (outcome.kind === 'exit') {
    if (outcome.stdout) process.stdout.write(outcome.stdout);
    if (outcome.stderr) process.stderr.write(outcome.stderr);
    return outcome.code;
  }
  const log = createLogger();
  try {
    // Remote mode (--remote / forward) lives in remote-mode.ts.
    if (outcome.options.remote) return await runRemoteMode(outcome.options, processIo(log, env));
    return await serve(outcome.options, log);
  } catch (err) {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    return 1;
  }
}

async function serve(options: ServerOptions, log: Logger): Promise<number> {
  const server = new ExecServer({ concurrency: options.concurrentRequests, log });
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let listener: LocalListener | null = null;

  const shutdown = async (reason: string) => {
    log.info('shutting down', { reason });
    await Promise.all([listener?.close(), server.shutdown()]);
    finish(0);
  };
  let shuttingDown = false;
  const onSignal = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    void shutdown(signal);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));

  if (options.listen.kind === 'stdio') {
    const pipe = new StdioPipe(process.stdin, process.stdout);
    pipe.onClose(() => onSignal('stdin closed'));
    server.serve(pipe);
  } else {
    const bindError = checkBindAllowed(options.listen, options.wsAuth);
    if (bindError) {
      process.stderr.write(bindError.stderr ?? '');
      return bindError.code;
    }
    listener = new LocalListener({
      host: options.listen.host,
      port: options.listen.port,
      auth: options.wsAuth,
      log,
      onConnection: (pipe) => server.serve(pipe),
    });
    let url: string;
    try {
      url = await listener.listen();
    } catch (err) {
      const failure = bindFailure(err);
      process.stderr.write(failure.stderr ?? '');
      await server.shutdown();
      return failure.code;
    }
    process.stdout.write(`${url}\n`);
    log.info('listening', { url, auth: options.wsAuth.mode });
    if (options.exitOnStdinClose) {
      process.stdin.on('end', () => onSignal('stdin closed'));
      process.stdin.on('error', () => onSignal('stdin closed'));
      process.stdin.resume();
    }
  }
  const code = await finished;
  return code;
}
