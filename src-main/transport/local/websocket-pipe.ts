/**
 * A MessagePipe over one websocket, with the reference's keepalive and close habits: an accepted
 * local connection, or the direct remote transport's outgoing socket (which names itself
 * differently and, like 0.169.0's direct client, never pings).
 */
import type { WebSocket } from 'ws';
import type { MessagePipe, PipeCarrier } from '../../core/rpc/message-pipe.ts';

/** The reference pings every connection every 30 s, idle or not, and ignores pongs. */
export const PING_INTERVAL_MS = 30_000;

export interface WebSocketPipeNaming {
  parseErrorLabel: string;
  carrier: PipeCarrier;
}

export class WebSocketPipe implements MessagePipe {
  readonly parseErrorLabel: string;
  readonly peer: string;
  readonly carrier: PipeCarrier;
  private readonly pinger: NodeJS.Timeout | null;

  /** `pingIntervalMs` 0: never ping. `naming`: for pipes that are not accepted local connections. */
  constructor(
    private readonly socket: WebSocket,
    remote: string,
    pingIntervalMs = PING_INTERVAL_MS,
    naming?: WebSocketPipeNaming,
  ) {
    this.peer = remote;
    this.carrier = naming?.carrier ?? { kind: 'local', peer: remote };
    this.parseErrorLabel = naming?.parseErrorLabel ?? `websocket JSON-RPC message from exec-server websocket ${remote}`;
    // The reference never sends a close frame: when ws would answer a client's close frame
    // (or close after a protocol error such as an oversized message or bad UTF-8), drop TCP.
    socket.close = () => socket.terminate();
    this.pinger = pingIntervalMs > 0 ? setInterval(() => socket.ping(), pingIntervalMs) : null;
    this.pinger?.unref();
    socket.on('close', () => {
      if (this.pinger) clearInterval(this.pinger);
    });
    socket.on('error', () => socket.terminate());
  }

  send(message: string | Buffer): void {
    // Always a text frame, as the reference sends, even when handed UTF-8 bytes.
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(message, { binary: false });
  }

  onMessage(handler: (data: string | Buffer) => void): void {
    this.socket.on('message', (data, isBinary) => {
      const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      handler(isBinary ? bytes : bytes.toString('utf8'));
    });
  }

  onClose(handler: () => void): void {
    this.socket.on('close', handler);
  }

  close(): void {
    this.socket.terminate();
  }

  bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }
}
