/**
 * `exec-desk status [--json] [--control-url URL]`: asks a running headless instance for its
 * snapshot over the control websocket. The instance is found through its discovery file
 * (runtime/instance-discovery.ts) unless `--control-url` names it: the dashboard URL as printed
 * (`http://127.0.0.1:PORT/#token=…`), or `ws://127.0.0.1:PORT/control` with the token in
 * `EXEC_DESK_CONTROL_TOKEN`.
 *
 * `--json` prints one JSON object on stdout (statusSchemaVersion 1; fields are only added):
 *   reachable instance:   { "statusSchemaVersion": 1, "reachable": true, "online": boolean,
 *                           "pid": number | null, "controlUrl": string, "snapshot": RuntimeSnapshot }
 *   unreachable instance: { "statusSchemaVersion": 1, "reachable": false, "online": false, "error": string }
 * `online` is `snapshot.registration.status === "online"`.
 *
 * Exit codes: 0 reachable and registration online; 3 reachable but registration not online
 * (including local-only runs); 1 no instance reachable (message on stderr); 2 usage error.
 */
import WebSocket from 'ws';
import type { RuntimeSnapshot } from '../control/contract.ts';
import { parseDashboardUrl, WsControlClient, type WebSocketConstructor } from '../control/ws-control-client.ts';
import { execDeskHome, processAlive, readDiscovery } from '../runtime/instance-discovery.ts';

export const STATUS_SUBCOMMAND = 'status';
export const STATUS_SCHEMA_VERSION = 1;
export const STATUS_EXIT = { online: 0, unreachable: 1, usage: 2, notOnline: 3 } as const;
export const CONTROL_TOKEN_ENV = 'EXEC_DESK_CONTROL_TOKEN';
const CONNECT_TIMEOUT_MS = 5000;

const USAGE = `Usage: exec-desk status [--json] [--control-url <URL>]

Report on the running headless exec-desk instance.

Options:
  --json               Print the status as one JSON object
  --control-url <URL>  The instance's dashboard URL (http://127.0.0.1:PORT/#token=...), or
                       ws://127.0.0.1:PORT/control with the token in ${CONTROL_TOKEN_ENV}
  -h, --help           Print help

Exit codes: 0 registration online, 3 running but not online, 1 no instance reachable, 2 usage error
`;

export interface StatusIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: StatusIo = { stdout: (t) => void process.stdout.write(t), stderr: (t) => void process.stderr.write(t) };

export async function runStatus(argv: string[], env: NodeJS.ProcessEnv, io: StatusIo = processIo): Promise<number> {
  let json = false;
  let controlUrl: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '-h' || arg === '--help') {
      io.stdout(USAGE);
      return 0;
    } else if (arg === '--control-url' || arg.startsWith('--control-url=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (!value) return usage(io, "a value is required for '--control-url <URL>'");
      controlUrl = value;
    } else return usage(io, `unexpected argument '${arg}' found`);
  }

  const unreachable = (message: string): number => {
    if (json) io.stdout(JSON.stringify({ statusSchemaVersion: STATUS_SCHEMA_VERSION, reachable: false, online: false, error: message }) + '\n');
    io.stderr(`Error: ${message}\n`);
    return STATUS_EXIT.unreachable;
  };

  let target: { url: string; token: string; pid: number | null };
  try {
    target = locate(controlUrl, env);
  } catch (err) {
    return unreachable((err as Error).message);
  }

  let snapshot: RuntimeSnapshot;
  try {
    snapshot = await fetchSnapshot(target.url, target.token);
  } catch (err) {
    return unreachable(`cannot reach exec-desk at ${target.url}: ${(err as Error).message}`);
  }
  const online = snapshot.registration.status === 'online';
  if (json) {
    io.stdout(
      JSON.stringify({ statusSchemaVersion: STATUS_SCHEMA_VERSION, reachable: true, online, pid: target.pid, controlUrl: target.url, snapshot }, null, 2) + '\n',
    );
  } else io.stdout(humanSummary(snapshot, target.pid));
  return online ? STATUS_EXIT.online : STATUS_EXIT.notOnline;
}

function usage(io: StatusIo, message: string): number {
  io.stderr(`error: ${message}\n\n${USAGE}`);
  return STATUS_EXIT.usage;
}

function locate(controlUrl: string | null, env: NodeJS.ProcessEnv): { url: string; token: string; pid: number | null } {
  if (controlUrl !== null) {
    if (controlUrl.startsWith('ws://')) {
      const token = env[CONTROL_TOKEN_ENV];
      if (!token) throw new Error(`--control-url ${controlUrl} needs the token in ${CONTROL_TOKEN_ENV}`);
      return { url: controlUrl, token, pid: null };
    }
    try {
      return { ...parseDashboardUrl(controlUrl), pid: null };
    } catch (err) {
      throw new Error(`invalid --control-url: ${(err as Error).message}`);
    }
  }
  const record = readDiscovery(execDeskHome(env));
  if (!processAlive(record.pid)) throw new Error(`no running exec-desk instance found (the discovery file names pid ${record.pid}, which has exited)`);
  return { url: record.controlUrl, token: record.token, pid: record.pid };
}

async function fetchSnapshot(url: string, token: string): Promise<RuntimeSnapshot> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CONNECT_TIMEOUT_MS);
  });
  let client: WsControlClient | null = null;
  try {
    client = await Promise.race([WsControlClient.connect({ url, token, WebSocket: WebSocket as unknown as WebSocketConstructor }), timeout]);
    return await Promise.race([client.invoke('getSnapshot', undefined), timeout]);
  } finally {
    clearTimeout(timer);
    client?.close();
  }
}

function humanSummary(s: RuntimeSnapshot, pid: number | null): string {
  const running = s.processes.filter((p) => p.state === 'running').length;
  const attached = s.sessions.filter((x) => x.state === 'attached').length;
  const lines = [
    `exec-desk ${s.version} (${s.host}${pid !== null ? `, pid ${pid}` : ''})`,
    `  listener:     ${s.listener.status}${s.listener.url ? ` ${s.listener.url}` : ''} (auth ${s.listener.authMode}, ${s.listener.connections} connection(s))`,
    `  registration: ${s.registration.status}${s.registration.configured ? '' : ' (not configured)'}${s.registration.lastError ? ` — ${s.registration.lastError}` : ''}`,
    `  sessions:     ${s.sessions.length} (${attached} attached)`,
    `  processes:    ${s.processes.length} (${running} running)`,
    `  streams:      ${s.streams.filter((x) => x.state !== 'closed').length} open`,
  ];
  return lines.join('\n') + '\n';
}
