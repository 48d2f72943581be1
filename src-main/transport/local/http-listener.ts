/**
 * The local listener: one HTTP server on ws://IP:PORT answering /readyz and upgrading "/" to a
 * websocket (local-protocol.md §1.2, §12). Each accepted websocket becomes a MessagePipe handed
 * to `onConnection`; the listener knows nothing about JSON-RPC.
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { MessagePipe } from '../../core/rpc/message-pipe.ts';
import { FrameHeaderWatcher, MAX_MESSAGE_BYTES } from './frame-guard.ts';
import { routeHttpRequest, type PlainAnswer } from './http-routes.ts';
import { authorizeUpgrade, type WsAuthConfig } from './ws-auth.ts';
import { WebSocketPipe } from './websocket-pipe.ts';
import type { Logger } from '../../core/log.ts';

export interface LocalListenerOptions {
  host: string;
  port: number;
  auth: WsAuthConfig;
  log: Logger;
  onConnection: (pipe: MessagePipe) => void;
  pingIntervalMs?: number;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function remoteLabel(socket: Socket): string {
  return `${formatHost(socket.remoteAddress ?? 'unknown')}:${socket.remotePort ?? 0}`;
}

function writeRawAnswer(socket: Socket, answer: PlainAnswer): void {
  const body = Buffer.from(answer.body, 'utf8');
  const lines = [`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}`];
  if (body.length > 0) lines.push('content-type: text/plain; charset=utf-8');
  lines.push(`content-length: ${body.length}`, `date: ${new Date().toUTCString()}`, 'connection: close', '', '');
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]));
}

export class LocalListener {
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket>();
  private boundUrl: string | null = null;

  constructor(private readonly options: LocalListenerOptions) {
    // The reference ignores offered subprotocols and answers 101 without choosing one.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      handleProtocols: () => false,
    });
    this.server = createServer((req, res) => {
      const decision = routeHttpRequest(req.method ?? 'GET', req.url ?? '/', req.headers);
      const answer: PlainAnswer =
        decision.kind === 'answer' ? decision : { kind: 'answer', status: 400, body: "Connection header did not include 'upgrade'" };
      const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(answer.body) };
      if (answer.body) headers['content-type'] = 'text/plain; charset=utf-8';
      res.writeHead(answer.status, headers);
      res.end(answer.body);
    });
    this.server.on('connection', (socket: Socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('upgrade', (req, socket: Socket, head) => void this.handleUpgrade(req, socket, head));
  }

  /** Binds and resolves with the URL to print: ws://IP:PORT. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        this.boundUrl = `ws://${formatHost(address.address)}:${address.port}`;
        resolve(this.boundUrl);
      });
    });
  }

  get url(): string | null {
    return this.boundUrl;
  }

  get connectionCount(): number {
    return this.wss.clients.size;
  }

  /** Stops accepting and drops every open connection without a close frame. */
  close(): Promise<void> {
    for (const client of this.wss.clients) client.terminate();
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const decision = routeHttpRequest(req.method ?? 'GET', req.url ?? '/', req.headers);
    if (decision.kind === 'answer') return writeRawAnswer(socket, decision);
    const verdict = await authorizeUpgrade(this.options.auth, req.headers.authorization);
    if (!verdict.ok) return writeRawAnswer(socket, { kind: 'answer', status: 401, body: verdict.reason });
    if (socket.destroyed) return;

    // Watch frame headers before ws parses them: a single frame over 16 MiB drops the connection.
    const watcher = new FrameHeaderWatcher();
    const guard = (chunk: Buffer) => {
      if (!watcher.push(chunk)) socket.destroy();
    };
    if (head.length > 0 && !watcher.push(head)) return void socket.destroy();
    socket.on('data', guard);

    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const pipe = new WebSocketPipe(ws, remoteLabel(socket), this.options.pingIntervalMs);
      this.options.log.debug('websocket connected', { peer: pipe.peer });
      this.options.onConnection(pipe);
    });
  }
}
