/**
 * Where the reference looks for its configuration on this host (local-protocol.md §10.3–§10.5):
 * the Codex home (`CODEX_HOME`, else `~/.codex`), the user's home, the system config folder
 * (`/etc/codex`) and the host name it reports.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { isIPv4, isIPv6 } from 'node:net';
import { posix } from 'node:path';
import { rustDebug } from './rust-text.ts';

/** Everything host-specific the config and discovery methods read; tests substitute it. */
export interface CodexHost {
  env: NodeJS.ProcessEnv;
  /** `$HOME`, or the passwd entry when HOME is unset or empty (Node's `os.homedir()`). */
  homeDir(): string;
  /** The system config folder (`/etc/codex` on Unix). */
  systemDir: string;
  /** The server's working directory (base for a relative CODEX_HOME). */
  cwd(): string;
  hostname(): Promise<string | null>;
}

export const SYSTEM_CODEX_DIR = '/etc/codex';

export function defaultCodexHost(): CodexHost {
  return {
    env: process.env,
    homeDir: () => homedir() || userInfo().homedir,
    systemDir: SYSTEM_CODEX_DIR,
    cwd: () => process.cwd(),
    hostname: canonicalHostname,
  };
}

export class CodexHomeError extends Error {
  constructor(
    /** The reason alone (`CODEX_HOME points to "...", but that path does not exist`). */
    readonly reason: string,
  ) {
    super(`failed to find Codex home: ${reason}`);
    this.name = 'CodexHomeError';
  }
}

/**
 * The Codex home: `CODEX_HOME` (must be an existing directory; canonicalized) when set and
 * non-empty, otherwise `<home>/.codex` (not required to exist).
 */
export async function resolveCodexHome(host: CodexHost): Promise<string> {
  const configured = host.env.CODEX_HOME;
  if (configured !== undefined && configured !== '') {
    const absolute = posix.resolve(host.cwd(), configured);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(absolute)).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw new CodexHomeError(`CODEX_HOME points to ${rustDebug(configured)}, but that path does not exist`);
      }
      throw new CodexHomeError(`failed to read CODEX_HOME ${rustDebug(configured)}: ${(err as Error).message}`);
    }
    if (!isDirectory) throw new CodexHomeError(`CODEX_HOME points to ${rustDebug(configured)}, but that path is not a directory`);
    return realpath(absolute);
  }
  return posix.join(posix.resolve(host.homeDir()), '.codex');
}

/**
 * The host name as the reference reports it: the canonical name that `getaddrinfo` (musl,
 * AI_CANONNAME) gives for `gethostname()` — the first name of the first `/etc/hosts` line that
 * lists it — when that name is fully qualified (has a dot); otherwise the plain host name.
 */
export async function canonicalHostname(): Promise<string | null> {
  const name = hostname();
  if (name === '') return null;
  let hosts: string;
  try {
    hosts = await readFile('/etc/hosts', 'utf8');
  } catch {
    return name;
  }
  return canonicalNameFromHosts(hosts, name);
}

/** The name `canonicalHostname` reports for host `name` given an `/etc/hosts` text. */
export function canonicalNameFromHosts(hosts: string, name: string): string {
  for (const raw of hosts.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2) continue;
    const [address, ...names] = fields as [string, ...string[]];
    if (!names.includes(name)) continue;
    if (!isIPv4(address) && !isIPv6(address)) continue;
    const canonical = names[0]!;
    if (!/^[A-Za-z0-9.\-\u0080-\uffff]+$/.test(canonical)) continue;
    // only a fully qualified canonical name replaces the short one
    return canonical.includes('.') ? canonical : name;
  }
  return name;
}
