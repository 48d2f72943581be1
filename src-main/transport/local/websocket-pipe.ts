/** A MessagePipe over one accepted websocket, with the reference's keepalive and close habits. */
import type { WebSocket } from 'ws';
import type { MessagePipe, PipeCarrier } from '../../core/rpc/message-pipe.ts';

/** The reference pings every connection every 30 s, idle or not, and ignores pongs. */
export const PING_INTERVAL_MS = 30_000;

export class WebSocketPipe implements MessagePipe {
  readonly parseErrorLabel: string;
  readonly peer: string;
  readonly carrier: PipeCarrier;
  private readonly pinger: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    remote: string,
    pingIntervalMs = PING_INTERVAL_MS,
  ) {
    this.peer = remote;
    this.carrier = { kind: 'local', peer: remote };
    this.parseErrorLabel = `websocket JSON-RPC message from exec-server websocket ${remote}`;
    // The reference never sends a close frame: when ws would answer a client's close frame
    // (or close after a protocol error such as an oversized message or bad UTF-8), drop TCP.
    socket.close = () => socket.terminate();
    this.pinger = setInterval(() => socket.ping(), pingIntervalMs);
    this.pinger.unref();
    socket.on('close', () => clearInterval(this.pinger));
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
