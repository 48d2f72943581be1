/**
 * What the tray shows for a runtime state: which icon, the tooltip, and the menu (as data, so
 * main only turns it into an Electron Menu and maps item ids to actions).
 */
import type { ListenerState, RegistrationState } from '../control/contract.ts';

/** One icon per overall condition; files are resources/tray-<name>.png (and @2x). */
export type TrayIconName = 'online' | 'local' | 'busy' | 'error' | 'off';

export type TrayItemId = 'open' | 'toggle-listener' | 'toggle-remote' | 'quit';

export type TrayMenuItem = { kind: 'item'; id: TrayItemId; label: string; enabled: boolean } | { kind: 'separator' };

export interface TrayModel {
  icon: TrayIconName;
  tooltip: string;
  menu: TrayMenuItem[];
}

const REGISTRATION_WORDS: Record<RegistrationState['status'], string> = {
  stopped: 'remote off',
  registering: 'registering',
  connecting: 'connecting',
  online: 'online',
  reconnecting: 'reconnecting',
  auth_needed: 'sign-in needed',
  error: 'remote error',
};

export function trayIcon(listener: ListenerState, registration: RegistrationState): TrayIconName {
  if (listener.status === 'error' || registration.status === 'error' || registration.status === 'auth_needed') return 'error';
  if (registration.status === 'online') return 'online';
  if (registration.status === 'registering' || registration.status === 'connecting' || registration.status === 'reconnecting' || listener.status === 'starting') {
    return 'busy';
  }
  if (listener.status === 'listening') return 'local';
  return 'off';
}

/** Tooltips are short on every OS (Windows cuts at 127 characters). */
export function trayTooltip(listener: ListenerState, registration: RegistrationState): string {
  const local = listener.status === 'listening' && listener.url ? `listening on ${listener.url}` : `listener ${listener.status}`;
  const remote = registration.configured ? REGISTRATION_WORDS[registration.status] : 'remote not set up';
  const text = `exec-desk: ${local}; ${remote}`;
  return text.length > 127 ? `${text.slice(0, 126)}…` : text;
}

export function trayModel(listener: ListenerState, registration: RegistrationState): TrayModel {
  const listenerOn = listener.status === 'listening' || listener.status === 'starting';
  const remoteOn = registration.status !== 'stopped' && registration.status !== 'error' && registration.status !== 'auth_needed';
  return {
    icon: trayIcon(listener, registration),
    tooltip: trayTooltip(listener, registration),
    menu: [
      { kind: 'item', id: 'open', label: 'Open exec-desk', enabled: true },
      { kind: 'separator' },
      { kind: 'item', id: 'toggle-listener', label: listenerOn ? 'Stop local listener' : 'Start local listener', enabled: true },
      {
        kind: 'item',
        id: 'toggle-remote',
        label: remoteOn ? 'Disconnect remote' : 'Connect remote',
        enabled: registration.configured || remoteOn,
      },
      { kind: 'separator' },
      { kind: 'item', id: 'quit', label: 'Quit exec-desk', enabled: true },
    ],
  };
}
