/**
 * Chooses the carrier at start: inside the Electron window the preload has put the control API
 * on `window.execDesk`; in a browser (the headless dashboard) the page connects back to the
 * control websocket of the server it was loaded from, with the token from `#token=…`.
 */
import { CONTROL_WS_PATH, type ControlApi } from '../../src-main/control/contract.ts';
import { ControlError } from '../../src-main/control/control-error.ts';
import { WsControlClient, type WebSocketConstructor } from '../../src-main/control/ws-control-client.ts';
import type { ClientSource } from '../store/desk-store.ts';

export interface PageEnvironment {
  execDesk?: ControlApi;
  location: { protocol: string; host: string; hash: string };
  WebSocket: WebSocketConstructor;
}

/** The token of a dashboard URL's fragment (`#token=…`), or null. */
export function tokenFromHash(hash: string): string | null {
  const token = new URLSearchParams(hash.replace(/^#/, '')).get('token');
  return token === null || token === '' ? null : token;
}

export function controlSocketUrl(location: { protocol: string; host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${CONTROL_WS_PATH}`;
}

export function pickClientSource(env: PageEnvironment): { kind: 'ipc' | 'websocket'; source: ClientSource } {
  const bridge = env.execDesk;
  if (bridge !== undefined) return { kind: 'ipc', source: async () => bridge };
  return {
    kind: 'websocket',
    source: async () => {
      const token = tokenFromHash(env.location.hash);
      if (token === null) {
        throw new ControlError('unavailable', 'This page needs the dashboard URL with its #token=… part, as printed by exec-desk --dashboard.');
      }
      return WsControlClient.connect({ url: controlSocketUrl(env.location), token, WebSocket: env.WebSocket });
    },
  };
}
