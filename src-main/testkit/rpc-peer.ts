/**
 * The client half of the exec-server dialect, whatever carries it: request/response matching by
 * id, notifications, and waiting for messages. RpcClient (a websocket) and the Noise harness's
 * HarnessStream (a relay stream) extend it with their transport.
 */

export interface RpcMessage {
  id?: number | string;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

type Waiter = { match: (m: RpcMessage) => boolean; resolve: (m: RpcMessage) => void };

export abstract class RpcPeer {
  /** Every message received, in order. */
  readonly messages: RpcMessage[] = [];
  private waiters: Waiter[] = [];
  private nextId = 1;

  /** Sends one JSON-RPC message over the transport. */
  abstract send(message: unknown): void;

  /** Words for timeout errors, e.g. ` on stream s1`. */
  protected describeWait(): string {
    return '';
  }

  /** Records a message from the transport and wakes whoever waits for it. */
  protected receive(message: RpcMessage): void {
    this.messages.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(message)) return true;
      w.resolve(message);
      return false;
    });
  }

  /** The first matching message from now on, or (with `includeSeen`) one already received. */
  protected waitForMessage(match: (m: RpcMessage) => boolean, timeoutMs: number, includeSeen: boolean): Promise<RpcMessage> {
    if (includeSeen) {
      const seen = this.messages.find(match);
      if (seen) return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a message${this.describeWait()}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Sends a request and resolves with its response (result or error). */
  request(method: string, params?: unknown, id: number | string = this.nextId++): Promise<RpcMessage> {
    const reply = this.waitForMessage((m) => m.id === id && m.method === undefined, 10_000, false);
    this.send(params === undefined ? { id, method } : { id, method, params });
    return reply;
  }

  /** Sends a request and returns its result, throwing on an error response. */
  async call<T = any>(method: string, params?: unknown): Promise<T> {
    const reply = await this.request(method, params);
    if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result as T;
  }

  notify(method: string, params?: unknown): void {
    this.send(params === undefined ? { method } : { method, params });
  }

  /** Waits for (or finds among those received) the notification `method` whose params satisfy `where`. */
  waitForNotification(method: string, where: (params: any) => boolean = () => true, timeoutMs = 10_000): Promise<RpcMessage> {
    return this.waitForMessage((m) => m.method === method && m.id === undefined && where(m.params), timeoutMs, true);
  }
}
