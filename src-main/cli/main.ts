/**
 * Headless entry: `exec-desk [flags]` serves the exec-server on a local websocket or stdio,
 * flag-compatible with `codex exec-server` (see headless.ts), and `exec-desk status [--json]`
 * reports on a running instance (see status-command.ts). Prints the bound URL as the first
 * stdout line, logs to stderr, and on SIGTERM/SIGINT kills every managed process and exits 0.
 */
import { parseCli } from './options.ts';
import { runHeadless } from './headless.ts';
import { runStatus, STATUS_SUBCOMMAND } from './status-command.ts';
import { createLogger } from '../core/log.ts';
import { settingsRemoteLinkFactory } from '../runtime/remote-link-factory.ts';
import { processIo, runRemoteMode } from './remote-mode.ts';

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv[0] === STATUS_SUBCOMMAND) return runStatus(argv.slice(1), env);
  const outcome = await parseCli(argv, env);
  if (outcome.kind === 'exit') {
    if (outcome.stdout) process.stdout.write(outcome.stdout);
    if (outcome.stderr) process.stderr.write(outcome.stderr);
    return outcome.code;
  }
  try {
    // Remote mode (--remote / forward) lives in remote-mode.ts.
    if (outcome.options.remote) return await runRemoteMode(outcome.options, processIo(createLogger(), env));
    // The dashboard's Connect (--dashboard / --no-ui): remote settings entered there, credentials from env or auth.json.
    return await runHeadless(outcome.options, { env, createRemoteLink: settingsRemoteLinkFactory({ env }) });
  } catch (err) {
    process.stderr.write(`Error: ${(err as Error).message}\n`);
    return 1;
  }
}
