/**
 * Runs a direct-transport executor as a process, either kind, with the same loopback-only setup:
 *   exec-desk:  node bin/exec-desk.mjs --remote <base> --environment-id <id> --remote-transport direct --aws-sigv4 --aws-region us-east-1
 *   reference:  codex exec-server <the same flags>
 * with test AWS keys in the environment, AWS config and credential files pointed into a fresh
 * temporary HOME (so nothing of the machine is read), IMDS disabled and every non-loopback HTTP(S)
 * destination sent to a dead proxy.
 */
import { join } from 'node:path';
import { execDeskBin } from '../server-process.ts';
import { referenceCommand } from './reference.ts';
import { spawnInTempHome, type TempHomeProcess } from '../temp-home-process.ts';

export type DirectExecutorKind = 'exec-desk' | 'reference';

export const TEST_AWS_KEYS = { AWS_ACCESS_KEY_ID: 'AKIDDIRECTSIDEBYSIDE', AWS_SECRET_ACCESS_KEY: 'side/by+side-secret' };

export type DirectExecutor = TempHomeProcess;

export function startDirectExecutor(
  kind: DirectExecutorKind,
  options: { registryUrl: string; environmentId: string; env?: Record<string, string>; extraArgs?: string[] },
): DirectExecutor {
  const args = ['--remote', options.registryUrl, '--environment-id', options.environmentId, '--remote-transport', 'direct', '--aws-sigv4', '--aws-region', 'us-east-1', ...(options.extraArgs ?? [])];
  const [command, argv] = kind === 'reference' ? [referenceCommand(), ['exec-server', ...args]] : [process.execPath, [execDeskBin, ...args]];
  return spawnInTempHome(command, argv, {
    prefix: `exec-desk-direct-${kind}-`,
    env: (home) => ({
      AWS_CONFIG_FILE: join(home, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...TEST_AWS_KEYS,
      ...options.env,
    }),
  });
}

/**
 * The fatal error as printed: the `Error: …` line and, when present, anyhow's `Caused by:` block
 * (log lines around it are not part of it).
 */
export function errorBlock(stderr: string): string {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => line.startsWith('Error: '));
  if (start < 0) return '';
  const block = [lines[start]!];
  if (lines[start + 1] === '' && lines[start + 2] === 'Caused by:') {
    block.push('', 'Caused by:');
    for (let i = start + 3; i < lines.length && lines[i]!.startsWith('    '); i++) block.push(lines[i]!);
  }
  return block.join('\n');
}
