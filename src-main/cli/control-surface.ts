/**
 * The opt-in face of a headless run (`--dashboard[=PORT]` / `--no-ui`): the loopback control
 * server over the ExecutorRuntime, the discovery file `exec-desk status` reads, and the stderr
 * line with the dashboard URL. Shared by local runs (headless.ts) and remote runs (remote-mode.ts),
 * so both show the same one runtime state.
 *
 * Two steps, because the control server must come up before anything else (a busy dashboard port
 * fails before anything is printed or registered) while the discovery file names the listener
 * URL, which is known only later.
 */
import { ControlServer } from '../control/control-server.ts';
import type { ExecutorRuntime } from '../runtime/executor-runtime.ts';
import { execDeskHome, removeDiscovery, writeDiscovery } from '../runtime/instance-discovery.ts';
import { packageVersion, type ServerOptions } from './options.ts';

/** Prefix of the stderr line that carries the dashboard URL. */
export const DASHBOARD_LINE_PREFIX = 'exec-desk dashboard: ';

export function controlServerWanted(options: ServerOptions): boolean {
  return options.dashboard !== null || options.noUi;
}

export interface ControlSurface {
  /** Writes the discovery file and prints the dashboard line (stderr). */
  announce(listenUrl: string | null): void;
  /** Removes the discovery file and closes the control server. */
  close(): Promise<void>;
}

/**
 * Starts the control server; on failure prints `Error: cannot start the dashboard …` and
 * resolves null (the caller exits 1).
 */
export async function openControlSurface(
  runtime: ExecutorRuntime,
  options: ServerOptions,
  io: { env: NodeJS.ProcessEnv; stderr: { write(text: string): unknown } },
): Promise<ControlSurface | null> {
  const log = runtime.log;
  const port = options.dashboard?.port ?? 0;
  let control: ControlServer;
  try {
    control = await ControlServer.start({ target: runtime, port, log, onToken: (token) => log.redactor.addSecret(token) });
  } catch (err) {
    io.stderr.write(`Error: cannot start the dashboard on 127.0.0.1:${port}: ${(err as Error).message}\n`);
    return null;
  }
  const home = execDeskHome(io.env);
  let announced = false;
  return {
    announce(listenUrl) {
      announced = true;
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
      io.stderr.write(`${DASHBOARD_LINE_PREFIX}${control.dashboardUrl}\n`);
    },
    async close() {
      if (announced) removeDiscovery(home, process.pid);
      await control.close();
    },
  };
}
