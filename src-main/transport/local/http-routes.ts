/**
 * The listener's HTTP answers, as 0.169.0's axum router gives them (local-protocol.md §1.2):
 * 403 to anything carrying Origin, /readyz for readiness, the websocket upgrade on "/" with
 * axum's rejection texts in axum's order, 404 elsewhere.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface PlainAnswer {
  kind: 'answer';
  status: number;
  /** text/plain body; empty answers carry no content-type. */
  body: string;
}

export type RouteDecision = PlainAnswer | { kind: 'upgrade' };

const empty = (status: number): PlainAnswer => ({ kind: 'answer', status, body: '' });
const text = (status: number, body: string): PlainAnswer => ({ kind: 'answer', status, body });

function headerHasToken(value: string | string[] | undefined, token: string): boolean {
  if (value === undefined) return false;
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined.split(',').some((part) => part.trim().toLowerCase() === token);
}

export function routeHttpRequest(method: string, url: string, headers: IncomingHttpHeaders): RouteDecision {
  if (headers.origin !== undefined) return empty(403);
  const path = url.split('?', 1)[0];
  if (path === '/readyz') return method === 'GET' || method === 'HEAD' ? empty(200) : empty(405);
  if (path !== '/') return empty(404);
  if (method !== 'GET') return text(405, 'Request method must be `GET`');
  if (!headerHasToken(headers.connection, 'upgrade')) return text(400, "Connection header did not include 'upgrade'");
  if (!headerHasToken(headers.upgrade, 'websocket')) return text(400, "`Upgrade` header did not include 'websocket'");
  if (headers['sec-websocket-key'] === undefined) return text(400, '`Sec-WebSocket-Key` header missing');
  if (headers['sec-websocket-version'] !== '13') return text(400, "`Sec-WebSocket-Version` header did not include '13'");
  return { kind: 'upgrade' };
}
