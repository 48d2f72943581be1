/**
 * Dials the direct transport's WebSocket (remote-protocol.md §13) the way 0.169.0's client
 * (tungstenite) does, as probed: headers `Host`, `Connection`, `Upgrade`, `Sec-WebSocket-Version`,
 * `Sec-WebSocket-Key`, then the SigV4 headers (signed per attempt); no subprotocol, no
 * permessage-deflate, no `x-request-id`, no redirects. Messages are limited to tungstenite's
 * 16 MiB frame size (a 16.1 MiB message made the binary drop the socket, 15.9 MiB passed).
 *
 * The outcome of an attempt decides what the link does next (§13, verified):
 *   409 → register again; other 4xx except 408/429 → fatal; 3xx/5xx/408/429/network → retry.
 */
import type WebSocket from 'ws';
import { statusText } from './registry-client.ts';
import { dialWebSocket } from './websocket-dial.ts';

/** tungstenite's default max frame size; ws applies it per message. */
export const DIRECT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Upgrade deadline: 0.169.0 gave up on a silent server after 10 s and retried (same url). */
export const DIRECT_HANDSHAKE_TIMEOUT_MS = 10_000;

export type DirectDialResult =
  /** `socket` is paused: `resume()` it once its listeners are attached. */
  | { ok: true; socket: WebSocket }
  | { ok: false; outcome: 'reregister' | 'fatal' | 'retry'; status: number | null; error: string; causes?: string[] };

export interface DirectDialOptions {
  url: URL;
  /** The SigV4 headers for this attempt, in the order to send them. */
  authHeaders: Array<[string, string]>;
  env?: NodeJS.ProcessEnv;
  handshakeTimeoutMs?: number;
  maxPayload?: number;
  signal?: AbortSignal;
}

/** The URL as 0.169.0 names it in texts: without the query (a signed capability). */
export function displayUrl(url: URL): string {
  const copy = new URL(url.href);
  copy.search = '';
  copy.hash = '';
  return copy.href;
}

/** What 0.169.0 does after an upgrade answered with `status`. */
export function upgradeOutcome(status: number): 'reregister' | 'fatal' | 'retry' {
  if (status === 409) return 'reregister';
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return 'fatal';
  return 'retry';
}

/** 0.169.0's fatal error for a refused upgrade, and its one cause (printed under `Caused by:`). */
export function upgradeRefused(url: URL, status: number): { message: string; causes: string[] } {
  const cause = `HTTP error: ${statusText(status)}`;
  return { message: `failed to connect to exec-server websocket \`${displayUrl(url)}\`: ${cause}`, causes: [cause] };
}

/** Dials once; never throws. */
export async function dialDirect(options: DirectDialOptions): Promise<DirectDialResult> {
  const { url } = options;
  // ws overwrites the values of its own headers but keeps the key order given here.
  const headers: Record<string, string> = {
    Host: url.host,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': '',
  };
  for (const [name, value] of options.authHeaders) headers[name] = value;
  const result = await dialWebSocket({
    url,
    headers,
    maxPayload: options.maxPayload ?? DIRECT_MAX_MESSAGE_BYTES,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DIRECT_HANDSHAKE_TIMEOUT_MS,
    env: options.env ?? process.env,
    signal: options.signal,
  });
  if (result.ok) return { ok: true, socket: result.ws };
  if (result.status === null) return { ok: false, outcome: 'retry', status: null, error: result.error };
  const outcome = upgradeOutcome(result.status);
  if (outcome === 'fatal') {
    const refused = upgradeRefused(url, result.status);
    return { ok: false, outcome, status: result.status, error: refused.message, causes: refused.causes };
  }
  return { ok: false, outcome, status: result.status, error: `direct websocket upgrade refused: HTTP ${result.status}` };
}
