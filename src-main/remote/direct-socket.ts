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
import WebSocket from 'ws';
import { statusText } from './registry-client.ts';
import { trustedCas } from './tls-trust.ts';

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
export function dialDirect(options: DirectDialOptions): Promise<DirectDialResult> {
  return new Promise<DirectDialResult>((resolve) => {
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
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        perMessageDeflate: false,
        maxPayload: options.maxPayload ?? DIRECT_MAX_MESSAGE_BYTES,
        handshakeTimeout: options.handshakeTimeoutMs ?? DIRECT_HANDSHAKE_TIMEOUT_MS,
        followRedirects: false,
        headers,
        ca: trustedCas(options.env ?? process.env),
      });
    } catch (error) {
      return resolve({ ok: false, outcome: 'retry', status: null, error: (error as Error).message });
    }
    let settled = false;
    const settle = (result: DirectDialResult) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', onAbort);
      if (!result.ok) {
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
      }
      resolve(result);
    };
    const onAbort = () => settle({ ok: false, outcome: 'retry', status: null, error: 'aborted' });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      const outcome = upgradeOutcome(status);
      if (outcome === 'fatal') {
        const refused = upgradeRefused(url, status);
        settle({ ok: false, outcome, status, error: refused.message, causes: refused.causes });
      } else settle({ ok: false, outcome, status, error: `direct websocket upgrade refused: HTTP ${status}` });
    });
    ws.once('error', (error) => settle({ ok: false, outcome: 'retry', status: null, error: error.message }));
    ws.once('open', () => {
      if (settled) return;
      // Held until the caller has attached its listeners: the peer may speak first, and a
      // message event before then would be lost. The caller resumes the socket.
      ws.pause();
      ws.removeAllListeners('error');
      ws.removeAllListeners('unexpected-response');
      settle({ ok: true, socket: ws });
    });
  });
}
