/**
 * The `originator` and `user-agent` the 0.169.0 binary sends to auth.openai.com (token refresh,
 * Agent Identity JWKS): `codex_cli_rs/0.169.0 (Debian 12.0.0; x86_64) unknown` on this kind of
 * machine — product/version, OS name and three-part version, architecture, terminal.
 */
import { readFileSync } from 'node:fs';
import { arch, platform, release } from 'node:os';

export const REFERENCE_VERSION = '0.169.0';
export const DEFAULT_ORIGINATOR = 'codex_cli_rs';
/** Env the binary reads to change its originator (and with it the user-agent prefix). */
export const ORIGINATOR_OVERRIDE_ENV = 'CODEX_INTERNAL_ORIGINATOR_OVERRIDE';

export function originator(env: NodeJS.ProcessEnv): string {
  const override = env[ORIGINATOR_OVERRIDE_ENV];
  return override && override.trim() !== '' ? override : DEFAULT_ORIGINATOR;
}

/** os_info-style names for the distributions most likely to run this. */
const LINUX_NAMES: Record<string, string> = {
  debian: 'Debian',
  ubuntu: 'Ubuntu',
  fedora: 'Fedora',
  alpine: 'Alpine Linux',
  arch: 'Arch Linux',
  centos: 'CentOS',
  rhel: 'Red Hat Enterprise Linux',
  opensuse: 'openSUSE',
  'opensuse-leap': 'openSUSE',
  amzn: 'Amazon Linux AMI',
  linuxmint: 'Mint',
  nixos: 'NixOS',
};

/** `12` → `12.0.0`, `22.04` → `22.4.0` (os_info's semantic version). */
function semantic(version: string): string | null {
  const parts = version.split('.').map((p) => (/^\d+$/.test(p) ? String(Number(p)) : null));
  if (parts.length === 0 || parts.length > 3 || parts.some((p) => p === null)) return null;
  while (parts.length < 3) parts.push('0');
  return parts.join('.');
}

function osDescription(): string {
  if (platform() === 'linux') {
    try {
      const fields = Object.fromEntries(
        readFileSync('/etc/os-release', 'utf8')
          .split('\n')
          .map((line) => /^([A-Z_]+)=(.*)$/.exec(line))
          .filter((m): m is RegExpExecArray => m !== null)
          .map((m) => [m[1], m[2]!.replace(/^"(.*)"$/, '$1')]),
      ) as Record<string, string>;
      const name = LINUX_NAMES[fields.ID ?? ''] ?? 'Linux';
      const version = fields.VERSION_ID ? semantic(fields.VERSION_ID) : null;
      return version ? `${name} ${version}` : `${name} Rolling Release`;
    } catch {
      return 'Linux';
    }
  }
  if (platform() === 'darwin') return `Mac OS ${release()}`;
  if (platform() === 'win32') return `Windows ${release()}`;
  return platform();
}

function archName(): string {
  const names: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'x86', arm: 'arm' };
  return names[arch()] ?? arch();
}

/** The terminal part: TERM_PROGRAM[/TERM_PROGRAM_VERSION], else TERM, else `unknown`. */
function terminal(env: NodeJS.ProcessEnv): string {
  const program = env.TERM_PROGRAM?.trim();
  if (program) {
    const version = env.TERM_PROGRAM_VERSION?.trim();
    return version ? `${program}/${version}` : program;
  }
  const term = env.TERM?.trim();
  return term ? term : 'unknown';
}

/** Header-safe: anything outside visible ASCII and space becomes `_` (as the binary sanitises). */
function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '_');
}

export function codexUserAgent(env: NodeJS.ProcessEnv): string {
  return headerSafe(`${originator(env)}/${REFERENCE_VERSION} (${osDescription()}; ${archName()}) ${terminal(env)}`);
}
