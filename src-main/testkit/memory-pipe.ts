/** An in-memory MessagePipe: the test plays the client, the processor the server. */
import type { MessagePipe } from '../core/rpc/message-pipe.ts';

export class MemoryPipe implements MessagePipe {
  readonly parseErrorLabel = 'websocket JSON-RPC message from exec-server websocket 127.0.0.1:1';
  readonly peer = 'memory';
  readonly sent: any[] = [];
  closed = false;
  private handler: ((data: string | Buffer) => void) | null = null;
  private closeHandlers: Array<() => void> = [];
  private waiters: Array<{ match: (m: any) => boolean; resolve: (m: any) => void }> = [];

  send(data: string | Buffer): void {
    const message = JSON.parse(data.toString());
    this.sent.push(message);
    this.waiters = this.waiters.filter((w) => (w.match(message) ? (w.resolve(message), false) : true));
  }
  onMessage(handler: (data: string | Buffer) => void): void {
    this.handler = handler;
  }
  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const h of this.closeHandlers) h();
  }
  bufferedAmount(): number {
    return 0;
  }

  /** Client side: deliver a frame to the server. */
  deliver(message: unknown): void {
    this.handler!(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message));
  }

  /** Client side: send a request and await its response. */
  request(id: number | string, method: string, params?: unknown): Promise<any> {
    const reply = this.next((m) => m.id === id && m.method === undefined);
    this.deliver(params === undefined ? { id, method } : { id, method, params });
    return reply;
  }

  next(match: (m: any) => boolean, timeoutMs = 5000): Promise<any> {
    const seen = this.sent.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching message')), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  async handshake(name = 'test'): Promise<string> {
    const reply = await this.request('init', 'initialize', { clientName: name });
    this.deliver({ method: 'initialized' });
    return reply.result.sessionId;
  }
}
