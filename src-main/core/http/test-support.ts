/**
 * A raw HTTP/1.1 server on 127.0.0.1 for the http tests (and the conformance scenario): it records
 * every request head and body exactly as received, and answers with whatever bytes a route writes,
 * so tests can send malformed, truncated, slow or odd responses. Bounded and self-stopping: every
 * server closes itself (and its sockets) after `lifetimeMs` even if a test forgets to, and never
 * keeps the process alive.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface RecordedRequest {
  /** Request line and header lines as received (Latin-1), without the blank line. */
  head: string;
  method: string;
  target: string;
  /** Header pairs as received (names with their original case). */
  headers: Array<[string, string]>;
  body: Buffer;
  /** 1-based number of the TCP connection that carried it. */
  connection: number;
}

export type Route = (socket: net.Socket, request: RecordedRequest) => void | Promise<void>;

export interface TestServer {
  port: number;
  url(path: string): string;
  requests: RecordedRequest[];
  connections(): number;
  /** Sockets currently open (to check that a client closed its side). */
  openSockets(): number;
  /** Resolves when the next socket closes. */
  nextClose(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** TLS with this certificate and key. */
  tls?: { cert: string; key: string };
  lifetimeMs?: number;
}

export function response(status: string, headers: Array<[string, string]>, body: string | Buffer = ''): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const lines = headers.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return Buffer.concat([Buffer.from(`HTTP/1.1 ${status}\r\n${lines}\r\n`, 'latin1'), bytes]);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a server; routes are looked up by path (query ignored), `*` is the fallback. */
export async function startTestServer(routes: Record<string, Route>, options: TestServerOptions = {}): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<net.Socket>();
  let count = 0;
  let closeWaiters: Array<() => void> = [];

  const onSocket = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      const waiters = closeWaiters;
      closeWaiters = [];
      for (const w of waiters) w();
    });
    const connection = ++count;
    let buf = Buffer.alloc(0);
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const lines = head.split('\r\n');
      const [method = '', target = ''] = lines[0]!.split(' ');
      const headers = lines.slice(1).map((line): [string, string] => {
        const i = line.indexOf(':');
        return [line.slice(0, i), line.slice(i + 1).trim()];
      });
      const find = (name: string) => headers.find(([k]) => k.toLowerCase() === name)?.[1];
      let rest = buf.subarray(end + 4);
      let body = Buffer.alloc(0);
      const length = find('content-length');
      if (find('transfer-encoding')?.toLowerCase().endsWith('chunked')) {
        const parts: Buffer[] = [];
        let r = rest;
        for (;;) {
          const eol = r.indexOf('\r\n');
          if (eol < 0) return;
          const size = parseInt(r.subarray(0, eol).toString('latin1'), 16);
          if (r.length < eol + 2 + size + 2) return;
          if (size === 0) {
            r = r.subarray(eol + 4);
            break;
          }
          parts.push(r.subarray(eol + 2, eol + 2 + size));
          r = r.subarray(eol + 2 + size + 2);
        }
        body = Buffer.concat(parts);
        rest = r;
      } else if (length !== undefined && /^\d+$/.test(length)) {
        const n = Number(length);
        if (rest.length < n) return;
        body = rest.subarray(0, n);
        rest = rest.subarray(n);
      }
      buf = rest;
      const request: RecordedRequest = { head, method, target, headers, body, connection };
      requests.push(request);
      const route = routes[target.split('?')[0]!] ?? routes['*'];
      busy = true;
      try {
        if (route) await route(socket, request);
        else socket.write(response('404 Not Found', [['content-length', '0']]));
      } catch {
        socket.destroy();
      } finally {
        busy = false;
      }
      if (buf.length > 0 && !socket.destroyed) void pump();
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      void pump();
    });
  };

  const server = options.tls ? tls.createServer({ cert: options.tls.cert, key: options.tls.key }, onSocket) : net.createServer(onSocket);
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const port = (server.address() as net.AddressInfo).port;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearTimeout(lifetime);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const lifetime = setTimeout(() => void close(), options.lifetimeMs ?? 60_000);
  lifetime.unref();
  return {
    port,
    url: (path) => `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}${path}`,
    requests,
    connections: () => count,
    openSockets: () => sockets.size,
    nextClose: (timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no socket closed in time')), timeoutMs);
        closeWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
    close,
  };
}
