/**
 * The executor's one WebSocket to the rendezvous (remote-protocol.md §4), as 0.169.0 holds it:
 * a plain upgrade (no subprotocol, no permessage-deflate, no credentials; a fresh
 * `x-request-id: req_<32 hex>` per attempt), a 10 s handshake deadline, 256 KiB message limit
 * (larger: the socket is dropped), an empty Ping 30 s after connecting and every 30 s while none
 * is outstanding, a 60 s Pong deadline, Pings answered (ws does that), and never a Close frame:
 * every ending, ours or the peer's, just drops the TCP connection. A write that stays unflushed
 * for the pong deadline (the rendezvous stopped reading) drops the socket as `write_error`, as
 * 0.169.0 does ("websocket write timed out", observed 60 s after the write blocked).
 *
 * It knows nothing of relay frames: messages go to `onMessage` as they come (text included; the
 * relay host logs and drops those).
 */
import { randomBytes } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import type { Logger } from '../core/log.ts';
import { MAX_RELAY_WEBSOCKET_MESSAGE_BYTES } from '../transport/relay/frame-codec.ts';
import { systemClock, type LinkClock } from './link-clock.ts';
import { dialWebSocket } from './websocket-dial.ts';

export const RENDEZVOUS_HANDSHAKE_TIMEOUT_MS = 10_000;
export const PING_INTERVAL_MS = 30_000;
export const PONG_TIMEOUT_MS = 60_000;
/** The reference's log text when a write outlives the pong deadline. */
export const WRITE_TIMED_OUT = 'websocket write timed out';

/** Why a connected socket ended (the reference's `noise_reason` values). */
export type DisconnectReason = 'peer_close' | 'read_error' | 'write_error' | 'pong_timeout' | 'local_shutdown';

export type ConnectResult =
  | { ok: true; socket: RendezvousSocket }
  /** The upgrade got an HTTP 4xx: the registration is stale, register again. */
  | { ok: false; rejected: true; status: number; error: string }
  /** Anything else (5xx, 3xx, timeout, refused, bad scheme): retry the same URL. */
  | { ok: false; rejected: false; status: number | null; error: string };

export interface RendezvousOptions {
  url: string;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  clock?: LinkClock;
  handshakeTimeoutMs?: number;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  maxPayload?: number;
  signal?: AbortSignal;
}

/** `req_` + 32 lowercase hex digits, new for every attempt. */
export function newRequestId(): string {
  return `req_${randomBytes(16).toString('hex')}`;
}

/** The upgrade's own headers in 0.169.0's order (ws adds Host, Connection, Upgrade, Sec-WebSocket-*). */
export function upgradeHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': newRequestId() };
  if (env.DD_SERVICE) headers['x-openai-internal-caller'] = env.DD_SERVICE;
  if (env.OPENAI_CLUSTER) headers['x-cluster-name'] = env.OPENAI_CLUSTER;
  return headers;
}

/** tungstenite's own upgrade headers, in the order it writes them; ours follow. */
const HANDSHAKE_HEADER_ORDER = ['host', 'connection', 'upgrade', 'sec-websocket-version', 'sec-websocket-key'];

/** Rewrites the (not yet sent) upgrade request's headers into the reference's order; then sends it. */
function sendInReferenceOrder(request: ClientRequest): void {
  const rank = (name: string) => {
    const at = HANDSHAKE_HEADER_ORDER.indexOf(name.toLowerCase());
    return at < 0 ? HANDSHAKE_HEADER_ORDER.length : at;
  };
  const entries = request.getRawHeaderNames().map((name) => [name, request.getHeader(name)!] as const);
  for (const [name] of entries) request.removeHeader(name);
  // Array.prototype.sort is stable: our own headers keep their order after the handshake ones.
  for (const [name, value] of [...entries].sort((a, b) => rank(a[0]) - rank(b[0]))) request.setHeader(name, value);
  request.end();
}

function toBytes(data: RawData): Uint8Array {
  const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export class RendezvousSocket {
  private messageHandler: ((data: Uint8Array, isBinary: boolean) => void) | null = null;
  private closeHandlers: Array<(reason: DisconnectReason) => void> = [];
  private endReason: DisconnectReason | null = null;
  private pingTimer: unknown = null;
  private pongTimer: unknown = null;
  private pingOutstanding = false;
  /** Messages (frames and pings) handed to the socket and not yet flushed, oldest first. */
  private unflushed = 0;
  private writeTimer: unknown = null;
  private readonly clock: LinkClock;
  /** Pings sent (for tests and diagnostics). */
  pingsSent = 0;

  private constructor(
    private readonly ws: WebSocket,
    private readonly options: RendezvousOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    ws.on('message', (data, isBinary) => {
      if (this.endReason === null) this.messageHandler?.(toBytes(data), isBinary);
    });
    ws.on('pong', () => {
      this.pingOutstanding = false;
      if (this.pongTimer !== null) this.clock.clearTimeout(this.pongTimer);
      this.pongTimer = null;
    });
    // An oversized message, a protocol violation or a socket error: a read error, drop it all.
    ws.on('error', (error) => this.end('read_error', error.message));
    ws.on('close', () => this.end('peer_close'));
    this.schedulePing();
  }

  /** Dials the rendezvous; never throws. */
  static async connect(options: RendezvousOptions): Promise<ConnectResult> {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      return { ok: false, rejected: false, status: null, error: `invalid rendezvous URL` };
    }
    // tungstenite dials ws/wss only (ws would also take http/https).
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      return { ok: false, rejected: false, status: null, error: `unsupported rendezvous URL scheme ${url.protocol}` };
    }
    const env = options.env ?? process.env;
    const result = await dialWebSocket({
      url,
      headers: upgradeHeaders(env),
      maxPayload: options.maxPayload ?? MAX_RELAY_WEBSOCKET_MESSAGE_BYTES,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? RENDEZVOUS_HANDSHAKE_TIMEOUT_MS,
      env,
      finishRequest: sendInReferenceOrder,
      signal: options.signal,
    });
    if (!result.ok) {
      if (result.status === null) return { ok: false, rejected: false, status: null, error: result.error };
      const error = `rendezvous upgrade refused: HTTP ${result.status}`;
      // A 4xx means the registration is stale (register again); anything else is retried.
      if (result.status >= 400 && result.status < 500) return { ok: false, rejected: true, status: result.status, error };
      return { ok: false, rejected: false, status: result.status, error };
    }
    const ws = result.ws;
    // 0.169.0 never sends a Close frame; ws would answer a peer's Close, or close with 1009 on
    // an oversized message, through close(). Dropping the TCP connection instead.
    (ws as { close: WebSocket['close'] }).close = () => ws.terminate();
    const socket = new RendezvousSocket(ws, options);
    ws.resume();
    return { ok: true, socket };
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Messages handed to the socket and not yet flushed to the OS. */
  get unflushedWrites(): number {
    return this.unflushed;
  }

  get isOpen(): boolean {
    return this.endReason === null;
  }

  send(frame: Uint8Array): void {
    if (this.endReason !== null || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(frame, { binary: true }, this.trackWrite());
  }

  /**
   * Counts one queued write and returns its completion callback. The writes flush in order, each
   * with the pong deadline from the moment it is the oldest one still waiting (0.169.0's writer
   * sends one message at a time under that timeout).
   */
  private trackWrite(): (error?: Error) => void {
    if (this.unflushed++ === 0) this.armWriteTimer();
    return (error?: Error) => {
      if (error) return this.end('write_error', error.message);
      if (this.endReason !== null) return;
      this.unflushed--;
      if (this.writeTimer !== null) this.clock.clearTimeout(this.writeTimer);
      this.writeTimer = null;
      if (this.unflushed > 0) this.armWriteTimer();
    };
  }

  private armWriteTimer(): void {
    this.writeTimer = this.clock.setTimeout(() => {
      this.writeTimer = null;
      this.end('write_error', WRITE_TIMED_OUT);
    }, this.options.pongTimeoutMs ?? PONG_TIMEOUT_MS);
  }

  onMessage(handler: (data: Uint8Array, isBinary: boolean) => void): void {
    this.messageHandler = handler;
  }

  /** Called once, with why the socket ended (immediately if it already has). */
  onClose(handler: (reason: DisconnectReason) => void): void {
    if (this.endReason !== null) handler(this.endReason);
    else this.closeHandlers.push(handler);
  }

  /** Drops the connection without a Close frame. */
  drop(reason: DisconnectReason = 'local_shutdown'): void {
    this.end(reason);
  }

  private schedulePing(): void {
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = null;
      if (this.endReason !== null) return;
      if (!this.pingOutstanding) {
        this.pingOutstanding = true;
        this.pingsSent++;
        this.ws.ping(undefined, undefined, this.trackWrite());
        this.pongTimer = this.clock.setTimeout(() => this.end('pong_timeout'), this.options.pongTimeoutMs ?? PONG_TIMEOUT_MS);
      }
      this.schedulePing();
    }, this.options.pingIntervalMs ?? PING_INTERVAL_MS);
  }

  private end(reason: DisconnectReason, detail?: string): void {
    if (this.endReason !== null) return;
    this.endReason = reason;
    if (this.pingTimer !== null) this.clock.clearTimeout(this.pingTimer);
    if (this.pongTimer !== null) this.clock.clearTimeout(this.pongTimer);
    if (this.writeTimer !== null) this.clock.clearTimeout(this.writeTimer);
    this.pingTimer = this.pongTimer = this.writeTimer = null;
    this.options.log.info('rendezvous connection ended', { reason, ...(detail ? { detail } : {}) });
    this.ws.terminate();
    for (const handler of this.closeHandlers.splice(0)) handler(reason);
  }
}
