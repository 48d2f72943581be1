/**
 * The loopback control carrier of headless runs: one HTTP server on 127.0.0.1 that serves the
 * built renderer at `/` and upgrades `/control` to a websocket speaking ControlClientMessage /
 * ControlServerMessage (contract.ts). A fresh random token per start protects the websocket
 * (offered as a subprotocol, compared in constant time); browsers are held to the server's own
 * Origin and Host, so another web page cannot drive the runtime. No token is ever logged.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CONTROL_WS_PATH,
  CONTROL_WS_PROTOCOL,
  CONTROL_WS_TOKEN_PREFIX,
  type ControlServerMessage,
  type RuntimeEvent,
} from './contract.ts';
import { ControlError } from './control-error.ts';
import { contentTypeOf, notBuiltPage, resolveStatic } from './static-files.ts';
import type { Logger } from '../core/log.ts';

/** What the server drives: the ExecutorRuntime (or anything with its two methods). */
export interface ControlTarget {
  dispatch(command: string, params: unknown): Promise<unknown>;
  subscribe(listener: (event: RuntimeEvent) => void): () => void;
}

export const CONTROL_HOST = '127.0.0.1';
/** Largest client message; commands are small. */
export const MAX_CONTROL_MESSAGE_BYTES = 1024 * 1024;
/** A client that lets this much pile up is dropped (it can reconnect and fetch a snapshot). */
export const MAX_CONTROL_BUFFERED_BYTES = 16 * 1024 * 1024;
const TOKEN_BYTES = 32;
/** Dashboards and status probes are few; more sockets than this are refused (503). */
export const MAX_CONTROL_CLIENTS = 64;

/** `electron-vite build` puts the renderer here. */
export const DEFAULT_RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));

export interface ControlServerOptions {
  target: ControlTarget;
  /** Only 127.0.0.1 is accepted (the default); anything else is refused. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  rendererDir?: string;
  log: Logger;
  /** Registers the token with the log redactor, if there is one. */
  onToken?: (token: string) => void;
}

export class ControlServerError extends Error {
  override readonly name = 'ControlServerError';
}

export class ControlServer {
  readonly token: string;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  private readonly subscribed = new Set<WebSocket>();
  private readonly unsubscribe: () => void;
  private readonly rendererDir: string;
  private boundPort = 0;

  private constructor(private readonly options: ControlServerOptions) {
    this.token = randomBytes(TOKEN_BYTES).toString('base64url');
    options.onToken?.(this.token);
    this.rendererDir = options.rendererDir ?? DEFAULT_RENDERER_DIR;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_CONTROL_MESSAGE_BYTES,
      perMessageDeflate: false,
      handleProtocols: (offered) => (offered.has(CONTROL_WS_PROTOCOL) ? CONTROL_WS_PROTOCOL : false),
    });
    this.server = createServer((req, res) => this.handleHttp(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req, socket: Socket, head) => this.handleUpgrade(req, socket, head));
    this.unsubscribe = options.target.subscribe((event) => this.broadcast(event));
  }

  /** Binds on 127.0.0.1 and resolves once listening. Rejects for any other host. */
  static async start(options: ControlServerOptions): Promise<ControlServer> {
    const host = options.host ?? CONTROL_HOST;
    if (host !== CONTROL_HOST) {
      throw new ControlServerError(`the control server binds ${CONTROL_HOST} only (refusing ${JSON.stringify(host)})`);
    }
    const port = options.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ControlServerError(`invalid control port ${String(port)}`);
    const server = new ControlServer(options);
    try {
      await new Promise<void>((resolve, reject) => {
        server.server.once('error', reject);
        server.server.listen(port, CONTROL_HOST, () => {
          server.server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      server.unsubscribe();
      throw err;
    }
    server.boundPort = (server.server.address() as AddressInfo).port;
    return server;
  }

  get port(): number {
    return this.boundPort;
  }

  /** `http://127.0.0.1:PORT`: the only Origin a browser client may send. */
  get origin(): string {
    return `http://${CONTROL_HOST}:${this.boundPort}`;
  }

  /** The URL to open: the token rides in the fragment, which browsers never send. */
  get dashboardUrl(): string {
    return `${this.origin}/#token=${this.token}`;
  }

  get controlUrl(): string {
    return `ws://${CONTROL_HOST}:${this.boundPort}${CONTROL_WS_PATH}`;
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    for (const client of this.wss.clients) client.terminate();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // -------------------------------------------------------------------------------------------
  // HTTP

  private securityHeaders(): Record<string, string> {
    return {
      'content-security-policy': [
        "default-src 'self'",
        `connect-src 'self' ws://${CONTROL_HOST}:${this.boundPort}`,
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    };
  }

  /** DNS rebinding guard: a page served under another name must not reach us. */
  private hostAllowed(req: IncomingMessage): boolean {
    return req.headers.host === `${CONTROL_HOST}:${this.boundPort}`;
  }

  private handleHttp(req: IncomingMessage, res: ServerResponse): void {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
      res.writeHead(status, { ...this.securityHeaders(), 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (!this.hostAllowed(req)) return send(421, 'wrong Host header\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', undefined, { allow: 'GET, HEAD' });
    const path = (req.url ?? '/').split(/[?#]/, 1)[0]!;
    if (path === CONTROL_WS_PATH) return send(426, 'upgrade to a websocket here\n');
    const found = resolveStatic(this.rendererDir, path);
    if (found.kind === 'not-built') return send(503, notBuiltPage(this.rendererDir), 'text/html; charset=utf-8');
    if (found.kind === 'not-found') return send(404, 'not found\n');
    res.writeHead(200, {
      ...this.securityHeaders(),
      'content-type': contentTypeOf(found.path),
      'content-length': found.size,
      'cache-control': found.path.endsWith('.html') ? 'no-store' : 'no-cache',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(found.path)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  // -------------------------------------------------------------------------------------------
  // Websocket

  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== CONTROL_WS_PATH) return refuse(socket, 404, 'not found');
    if (!this.hostAllowed(req)) return refuse(socket, 403, 'wrong Host header');
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== this.origin) return refuse(socket, 403, 'foreign Origin');
    if (!this.tokenOffered(req.headers['sec-websocket-protocol'])) return refuse(socket, 401, 'missing or wrong control token');
    if (this.wss.clients.size >= MAX_CONTROL_CLIENTS) return refuse(socket, 503, 'too many control connections');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private tokenOffered(header: string | undefined): boolean {
    if (!header) return false;
    const expected = digest(this.token);
    let ok = false;
    for (const offered of header.split(',')) {
      const value = offered.trim();
      if (!value.startsWith(CONTROL_WS_TOKEN_PREFIX)) continue;
      // Equal-length digests: the comparison time says nothing about the token.
      if (timingSafeEqual(digest(value.slice(CONTROL_WS_TOKEN_PREFIX.length)), expected)) ok = true;
    }
    return ok;
  }

  private accept(ws: WebSocket): void {
    ws.on('error', () => ws.terminate());
    ws.on('close', () => this.subscribed.delete(ws));
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? null : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      void this.handleMessage(ws, text);
    });
  }

  private async handleMessage(ws: WebSocket, text: string | null): Promise<void> {
    if (text === null) return this.reply(ws, { id: 0, error: { code: 'invalid_params', message: 'control messages are JSON text frames' } });
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return this.reply(ws, { id: 0, error: { code: 'invalid_params', message: 'control message is not valid JSON' } });
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return this.reply(ws, { id: 0, error: { code: 'invalid_params', message: 'control message must be a JSON object' } });
    }
    const m = message as Record<string, unknown>;
    const id = typeof m.id === 'number' && Number.isSafeInteger(m.id) && m.id > 0 ? m.id : null;
    if (id === null) return this.reply(ws, { id: 0, error: { code: 'invalid_params', message: 'control message needs a positive integer id' } });
    if ('subscribe' in m) {
      if (typeof m.subscribe !== 'boolean') return this.reply(ws, { id, error: { code: 'invalid_params', message: 'subscribe must be true or false' } });
      if (m.subscribe) this.subscribed.add(ws);
      else this.subscribed.delete(ws);
      return this.reply(ws, { id, result: { subscribed: m.subscribe } });
    }
    if (typeof m.command !== 'string') return this.reply(ws, { id, error: { code: 'invalid_params', message: 'control message needs a command' } });
    try {
      const result = await this.options.target.dispatch(m.command, m.params);
      this.reply(ws, { id, result: result ?? null });
    } catch (err) {
      if (!(err instanceof ControlError)) this.options.log.error('control command failed', { command: m.command, error: String(err) });
      this.reply(ws, { id, error: ControlError.payloadOf(err) });
    }
  }

  private reply(ws: WebSocket, message: ControlServerMessage): void {
    this.sendText(ws, JSON.stringify(message));
  }

  private broadcast(event: RuntimeEvent): void {
    if (this.subscribed.size === 0) return;
    const text = JSON.stringify({ event } satisfies ControlServerMessage);
    for (const ws of this.subscribed) this.sendText(ws, text);
  }

  private sendText(ws: WebSocket, text: string): void {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_CONTROL_BUFFERED_BYTES) {
      this.subscribed.delete(ws);
      ws.terminate();
      return;
    }
    ws.send(text);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function refuse(socket: Socket, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
