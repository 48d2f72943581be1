/**
 * `environment/info` (local-protocol.md §10.1), also embedded in the initialize result.
 * Capability flags tell clients which optional features they may use; exec-desk reports true
 * only for what it really implements, so a client never relies on a missing feature.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir, hostname, tmpdir, userInfo } from 'node:os';
import { basename } from 'node:path';
import { toPathUri } from '../protocol/path-uri.ts';

/**
 * The reference version whose protocol exec-desk speaks. Clients gate behaviour on
 * `executorVersion`, so exec-desk reports the version it is wire-compatible with.
 */
export const COMPATIBLE_EXECUTOR_VERSION = '0.169.0';

export interface Capabilities {
  networkProxyLaunch: boolean;
  networkProxyReviewDomains: boolean;
  credentialMasking: boolean;
  credentialMaskingCustomProviders: boolean;
  capabilityDiscoverySandbox: boolean;
  fsWatchMissing: boolean;
  capabilityDiscoveryV2: boolean;
  environmentConfigRead: boolean;
  httpHeaderEnvVars: boolean;
  sandboxedFileStreaming: boolean;
  fileWriteStreaming: boolean;
  shellSnapshotV2: boolean;
  windowsMxc: boolean;
  linuxRootWritePreservesDevices: boolean;
  linuxApprovedRootWritePreservesRestrictions: boolean;
}

/** What exec-desk implements today; each flag turns true in the change that implements it. */
export const CAPABILITIES: Capabilities = {
  networkProxyLaunch: false,
  networkProxyReviewDomains: false,
  credentialMasking: false,
  credentialMaskingCustomProviders: false,
  capabilityDiscoverySandbox: false,
  fsWatchMissing: true,
  capabilityDiscoveryV2: true,
  environmentConfigRead: true,
  httpHeaderEnvVars: true,
  sandboxedFileStreaming: false,
  fileWriteStreaming: true,
  shellSnapshotV2: false,
  windowsMxc: false,
  linuxRootWritePreservesDevices: false,
  linuxApprovedRootWritePreservesRestrictions: false,
};

export interface EnvironmentInfo {
  shell: { name: string; path: string };
  executorVersion: string;
  providerId: string;
  cwd: string;
  userHomeDir: string;
  platformOs: string;
  prependPathDirs: string[];
  temporaryDirectories: string[];
  tempDir: string;
  capabilities: Capabilities;
}

function userShell(): string {
  try {
    const shell = userInfo().shell;
    if (shell) return shell;
  } catch {
    /* no passwd entry: fall through */
  }
  return process.env.SHELL || '/bin/sh';
}

/**
 * A stable id for "this machine's filesystem and process space", so clients can tell whether
 * two environments are the same provider. Derived from the machine id (or host name).
 */
function providerId(): string {
  let machine = '';
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      machine = readFileSync(path, 'utf8').trim();
      if (machine) break;
    } catch {
      /* try the next source */
    }
  }
  const digest = createHash('sha256').update(`exec-desk:${machine || hostname()}`).digest('hex');
  return `sha256:${digest}`;
}

/** $HOME, or the passwd home when HOME is unset or empty (as the reference falls back). */
function userHome(): string {
  const home = homedir();
  if (home) return home;
  try {
    return userInfo().homedir || '/';
  } catch {
    return '/';
  }
}

let cachedProviderId: string | undefined;

function platformOs(): string {
  switch (process.platform) {
    case 'darwin':
      return 'macos';
    case 'win32':
      return 'windows';
    default:
      return process.platform;
  }
}

export function environmentInfo(capabilities: Capabilities = CAPABILITIES): EnvironmentInfo {
  const shellPath = userShell();
  const tmpEnv = process.env.TMPDIR;
  return {
    shell: { name: basename(shellPath), path: shellPath },
    executorVersion: COMPATIBLE_EXECUTOR_VERSION,
    providerId: cachedProviderId ??= providerId(),
    cwd: toPathUri(process.cwd()),
    userHomeDir: toPathUri(userHome()),
    platformOs: platformOs(),
    prependPathDirs: [],
    temporaryDirectories: tmpEnv ? [toPathUri(tmpEnv)] : [],
    tempDir: toPathUri(tmpdir()),
    capabilities: { ...capabilities },
  };
}

