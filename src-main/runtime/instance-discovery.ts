/**
 * How `exec-desk status` finds a running headless instance: while its control server is up,
 * the instance keeps `control.json` in the exec-desk home (`$EXEC_DESK_HOME`, default
 * `~/.exec-desk`), mode 0600 in a 0700 directory, and removes it on exit. The file holds the
 * control token, so nothing else may read it. The last instance to start owns the file.
 *
 * Schema (schemaVersion 1):
 *   { "schemaVersion": 1, "pid": number, "version": string, "startedAtMs": number,
 *     "controlUrl": "ws://127.0.0.1:PORT/control", "dashboardUrl": "http://127.0.0.1:PORT/#token=…",
 *     "token": string, "listenUrl": "ws://…" | "stdio" | null }
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DISCOVERY_FILE = 'control.json';
export const EXEC_DESK_HOME_ENV = 'EXEC_DESK_HOME';

export interface DiscoveryRecord {
  schemaVersion: 1;
  pid: number;
  version: string;
  startedAtMs: number;
  controlUrl: string;
  dashboardUrl: string;
  token: string;
  listenUrl: string | null;
}

export function execDeskHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[EXEC_DESK_HOME_ENV];
  return fromEnv && fromEnv !== '' ? fromEnv : join(homedir(), '.exec-desk');
}

export function discoveryPath(home: string): string {
  return join(home, DISCOVERY_FILE);
}

/** Writes the record atomically with mode 0600. */
export function writeDiscovery(home: string, record: DiscoveryRecord): string {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const path = discoveryPath(home);
  const tmp = `${path}.${record.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** Removes the file if it is still this instance's (another instance may have replaced it). */
export function removeDiscovery(home: string, pid: number): void {
  const path = discoveryPath(home);
  try {
    const current = parseDiscovery(readFileSync(path, 'utf8'));
    if (current.pid === pid) rmSync(path, { force: true });
  } catch {
    // absent or unreadable: nothing of ours to remove
  }
}

export class DiscoveryError extends Error {
  override readonly name = 'DiscoveryError';
}

export function readDiscovery(home: string): DiscoveryRecord {
  const path = discoveryPath(home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DiscoveryError(`no running exec-desk instance found (no ${path}; start one with --no-ui or --dashboard)`);
    }
    throw new DiscoveryError(`cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    return parseDiscovery(text);
  } catch (err) {
    throw new DiscoveryError(`${path} is not a valid discovery file: ${(err as Error).message}`);
  }
}

export function parseDiscovery(text: string): DiscoveryRecord {
  const value = JSON.parse(text) as Partial<DiscoveryRecord>;
  if (typeof value !== 'object' || value === null) throw new Error('not an object');
  if (value.schemaVersion !== 1) throw new Error(`unsupported schemaVersion ${String(value.schemaVersion)}`);
  for (const key of ['controlUrl', 'dashboardUrl', 'token', 'version'] as const) {
    if (typeof value[key] !== 'string' || value[key] === '') throw new Error(`missing ${key}`);
  }
  if (typeof value.pid !== 'number' || !Number.isInteger(value.pid)) throw new Error('missing pid');
  return value as DiscoveryRecord;
}

/** True while a process with this pid exists (signal 0 probes without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
