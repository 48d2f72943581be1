/**
 * A JSON-RPC client for tests and by-hand use: speaks the exec-server dialect (no "jsonrpc"
 * member) over a websocket, records every frame it receives, and lets a test await responses
 * and notifications. It can also send raw text/binary frames to exercise malformed input.
 */
import WebSocket from 'ws';
import { RpcPeer, type RpcMessage } from './rpc-peer.ts';

export type { RpcMessage } from './rpc-peer.ts';


export interface ReceivedFrame {
  /** The raw text of the frame as the server sent it. */
  text: string;
  /** The parsed message. */
  message: RpcMessage;
  /** Whether the server sent it as a binary frame. */
  binary: boolean;
}

export interface RpcClientOptions {
  headers?: Record<string, string>;
  /** Max payload accepted from the server; default ws's 100 MiB. */
  maxPayload?: number;
}

export class RpcClient extends RpcPeer {
  readonly frames: ReceivedFrame[] = [];
  private closeWaiters: Array<(code: number) => void> = [];
  closedWith: number | undefined;

  private constructor(readonly socket: WebSocket) {
    super();
    socket.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      const message = JSON.parse(text) as RpcMessage;
      this.frames.push({ text, message, binary: isBinary });
      this.receive(message);
    });
    socket.on('close', (code) => {
      this.closedWith = code;
      for (const w of this.closeWaiters) w(code);
      this.closeWaiters = [];
    });
    socket.on('error', () => {
      /* close follows; tests look at closedWith */
    });
  }

  static connect(url: string, options: RpcClientOptions = {}): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        perMessageDeflate: false,
        headers: options.headers,
        maxPayload: options.maxPayload,
      });
      socket.once('open', () => resolve(new RpcClient(socket)));
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
      });
      socket.once('error', reject);
    });
  }

  /** initialize + initialized; returns the initialize result. */
  async handshake(clientName = 'testkit', resumeSessionId?: string): Promise<{ sessionId: string; environmentInfo: any }> {
    const params: Record<string, unknown> = { clientName };
    if (resumeSessionId !== undefined) params.resumeSessionId = resumeSessionId;
    const result = await this.call('initialize', params);
    this.notify('initialized', {});
    return result;
  }

  override send(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** Resolves with the first message from now on that matches. */
  waitFor(match: (m: RpcMessage) => boolean, timeoutMs = 10_000): Promise<RpcMessage> {
    return this.waitForMessage(match, timeoutMs, false);
  }

  notifications(method?: string): RpcMessage[] {
    return this.frames
      .map((f) => f.message)
      .filter((m) => m.id === undefined && m.method !== undefined && (method === undefined || m.method === method));
  }

  /** Resolves with the close code once the socket is closed (1006 when the server just drops TCP). */
  closed(timeoutMs = 10_000): Promise<number> {
    if (this.closedWith !== undefined) return Promise.resolve(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close in time')), timeoutMs);
      this.closeWaiters.push((code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  /** Drops the TCP connection without a close handshake. */
  terminate(): void {
    this.socket.terminate();
  }
}
