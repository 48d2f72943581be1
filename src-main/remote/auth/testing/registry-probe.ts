/**
 * Test support: sends one registry request the way the 0.169.0 executor orders it (§2.2) —
 * URL rule first, then `content-type`, the provider's auth headers, `accept` — to a loopback
 * server, plus a recording HTTP server. The real registry client lives in src-main/remote/; this
 * only lets auth tests prove "no network I/O before the host rule" and header order end to end.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { TEST_LEAF_CERT_PEM, TEST_LEAF_KEY_PEM } from '../../../core/http/test-certs.ts';
import { request as httpRequest } from 'node:http';
import type { AuthProvider } from '../auth-provider.ts';

export interface Recorded {
  method: string;
  url: string;
  /** Lower-cased names in wire order. */
  headers: Array<[string, string]>;
  body: string;
}

export interface RecordingServer {
  url: string;
  port: number;
  seen: Recorded[];
  /** Sets the status (and JSON body) of the following answers. */
  answer: (req: Recorded) => { status: number; body?: unknown };
  close(): Promise<void>;
}

/** `tls`: HTTPS with the test leaf for 127.0.0.1 (trust TEST_CA_PEM). */
export async function startRecordingServer(options: { tls?: boolean } = {}): Promise<RecordingServer> {
  const seen: Recorded[] = [];
  const state: RecordingServer = {
    url: '',
    port: 0,
    seen,
    answer: () => ({ status: 200, body: {} }),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const handler: RequestListener = (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(recorded);
      const { status, body } = state.answer(recorded);
      const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  };
  const server: Server = options.tls ? createTlsServer({ key: TEST_LEAF_KEY_PEM, cert: TEST_LEAF_CERT_PEM }, handler) : createServer(handler);
  // WebSocket upgrades are recorded too (method GET, url, headers) and refused with 403.
  server.on('upgrade', (req: IncomingMessage, socket) => {
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!.toLowerCase(), req.rawHeaders[i + 1]!]);
    seen.push({ method: `UPGRADE ${req.method ?? ''}`, url: req.url ?? '', headers, body: '' });
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as { port: number }).port;
  state.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${state.port}`;
  return state;
}

/** Auth headers of a recorded executor request: those between content-type and accept (§2.2). */
export function authHeadersOf(recorded: Recorded): Array<[string, string]> {
  const names = recorded.headers.map(([name]) => name);
  const start = names.indexOf('content-type');
  const end = names.indexOf('accept');
  return recorded.headers.slice(start + 1, end);
}

/** One POST like the executor's; resolves with the status. URL rule is checked first. */
export async function probeRegistry(provider: AuthProvider, base: URL, path: string, body: unknown): Promise<number> {
  provider.checkRegistryUrl(base);
  const url = new URL(`${base.href.replace(/\/+$/, '')}/${path}`);
  const payload = Buffer.from(JSON.stringify(body));
  const auth = await provider.headers({ url, method: 'POST', body: payload });
  const headers: Array<[string, string]> = [
    ['content-type', 'application/json'],
    ...auth,
    ['accept', '*/*'],
    ['host', url.host],
    ['content-length', String(payload.length)],
  ];
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: headers.flat() }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
