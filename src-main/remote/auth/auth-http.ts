/**
 * Minimal HTTP(S) client for the auth endpoints (token refresh, Agent Identity JWKS and task
 * registration). Headers are sent exactly in the given order, like the binary's, so tests can
 * compare the wire byte for byte; `host` and `content-length` follow them, as with hyper.
 * Bodies of error responses are returned to the caller but never logged here.
 */
import { request as httpRequest, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface AuthHttpResponse {
  status: number;
  /** Canonical status line the Rust client prints: `500 Internal Server Error`. */
  statusLine: string;
  body: string;
}

export interface AuthHttpOptions {
  method: 'GET' | 'POST';
  headers: Array<[string, string]>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Extra trusted CAs (SSL_CERT_FILE, see ../tls-trust.ts). */
  ca?: string[];
}

export const AUTH_HTTP_TIMEOUT_MS = 30_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

export function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `${status} ${reason}` : String(status);
}

export function authHttp(url: URL, options: AuthHttpOptions): Promise<AuthHttpResponse> {
  const payload = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8');
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // Object headers keep insertion order; Node then appends Host; content-length goes last and
    // no `connection` header is sent — the same order hyper uses.
    const req = send(url, {
        method: options.method,
        headers: Object.fromEntries(options.headers),
        signal: options.signal,
        timeout: options.timeoutMs,
        ...(options.ca ? { ca: options.ca } : {}),
      }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new Error('response body too large'));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        resolve({ status, statusLine: statusLine(status), body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    if (payload) req.setHeader('content-length', String(payload.length));
    req.removeHeader('connection');
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}
