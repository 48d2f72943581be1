/** Display formatting for the views. Pure, so it is tested under Node. */
import type { RegistrationStatus, SessionCarrier } from '../src-main/control/contract.ts';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `1h 02m`, `3m 05s`, `42s`; negative durations count as zero. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** "in 12s" until `atMs`, "now" once it has passed. */
export function formatCountdown(atMs: number, nowMs: number): string {
  const left = atMs - nowMs;
  return left <= 0 ? 'now' : `in ${formatDuration(Math.ceil(left / 1000) * 1000)}`;
}

export function formatClock(atMs: number): string {
  const d = new Date(atMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((x) => String(x).padStart(2, '0')).join(':');
}

export function carrierLabel(carrier: SessionCarrier | null): string {
  if (carrier === null) return 'none (detached)';
  switch (carrier.kind) {
    case 'local':
      return `local websocket ${carrier.peer}`;
    case 'relay':
      return `relay stream ${carrier.streamId}`;
    case 'stdio':
      return 'stdio';
  }
}

const REGISTRATION_LABELS: Record<RegistrationStatus, string> = {
  stopped: 'Stopped',
  registering: 'Registering',
  connecting: 'Connecting',
  online: 'Online',
  reconnecting: 'Reconnecting',
  auth_needed: 'Sign-in needed',
  error: 'Error',
};

export function registrationLabel(status: RegistrationStatus): string {
  return REGISTRATION_LABELS[status] ?? status;
}

/** Quotes argv for display the way a POSIX shell would need it. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
