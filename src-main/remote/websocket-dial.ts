/**
 * One websocket client dial as both remote links make it (the rendezvous for Noise, §4; the direct
 * exec-server socket, §13): no permessage-deflate, no redirects followed, the trust store of
 * tls-trust.ts, an upgrade deadline, abortable, settled exactly once and never throwing. What a
 * refused or failed dial means (retry, re-register, fatal) is each link's own rule.
 */
import type { ClientRequest } from 'node:http';
import WebSocket from 'ws';
import { trustedCas } from './tls-trust.ts';

export type DialResult =
  /** `ws` is paused: attach its listeners, then `resume()` it (the peer may speak first). */
  | { ok: true; ws: WebSocket }
  /** `status` is the HTTP answer to the upgrade, or null when none came (network, timeout, abort). */
  | { ok: false; status: number | null; error: string };

export interface DialOptions {
  url: URL;
  /** Sent in this key order (ws fills in its own headers' values). */
  headers: Record<string, string>;
  maxPayload: number;
  handshakeTimeoutMs: number;
  env: NodeJS.ProcessEnv;
  /** Sends the upgrade request (e.g. with its headers reordered); default: as ws builds it. */
  finishRequest?: (request: ClientRequest) => void;
  signal?: AbortSignal;
}

export function dialWebSocket(options: DialOptions): Promise<DialResult> {
  return new Promise<DialResult>((resolve) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(options.url, {
        perMessageDeflate: false,
        maxPayload: options.maxPayload,
        handshakeTimeout: options.handshakeTimeoutMs,
        followRedirects: false,
        headers: options.headers,
        ca: trustedCas(options.env),
        ...(options.finishRequest ? { finishRequest: options.finishRequest } : {}),
      });
    } catch (error) {
      return resolve({ ok: false, status: null, error: (error as Error).message });
    }
    let settled = false;
    const settle = (result: DialResult) => {
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
    const onAbort = () => settle({ ok: false, status: null, error: 'aborted' });
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      settle({ ok: false, status, error: `HTTP ${status}` });
    });
    ws.once('error', (error) => settle({ ok: false, status: null, error: error.message }));
    ws.once('open', () => {
      if (settled) return;
      ws.pause();
      ws.removeAllListeners('error');
      ws.removeAllListeners('unexpected-response');
      settle({ ok: true, ws });
    });
  });
}
