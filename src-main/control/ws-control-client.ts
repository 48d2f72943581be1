/**
 * ControlApi over the control websocket, for Node (`status --json`, tests) and the browser
 * dashboard alike: no Node imports, the WebSocket constructor is passed in (the browser's
 * global `WebSocket`, or `ws` under Node).
 */
import {
  CONTROL_WS_PATH,
  CONTROL_WS_PROTOCOL,
  CONTROL_WS_TOKEN_PREFIX,
  type ControlApi,
  type ControlClientMessage,
  type ControlCommandName,
  type ControlParams,
  type ControlResult,
  type RuntimeEvent,
} from './contract.ts';
import { ControlError, isControlErrorPayload } from './control-error.ts';

/** The part of the WebSocket API used here (browser WebSocket and `ws` both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'message' | 'close' | 'error', listener: (event: any) => void): void;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

const OPEN = 1;

export interface ControlConnectOptions {
  /** `ws://127.0.0.1:PORT/control` */
  url: string;
  token: string;
  WebSocket: WebSocketConstructor;
}

/** Control endpoint and token from a dashboard URL (`http://127.0.0.1:PORT/#token=…`). */
export function parseDashboardUrl(dashboardUrl: string): { url: string; token: string } {
  const parsed = new URL(dashboardUrl);
  if (parsed.protocol !== 'http:') throw new Error('the dashboard URL must start with http://');
  const token = new URLSearchParams(parsed.hash.replace(/^#/, '')).get('token');
  if (!token) throw new Error('the dashboard URL carries no #token=');
  return { url: `ws://${parsed.host}${CONTROL_WS_PATH}`, token };
}

export class WsControlClient implements ControlApi {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: ControlError) => void }>();
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private readonly closeListeners = new Set<() => void>();
  private isClosed = false;

  private constructor(private readonly socket: WebSocketLike) {
    socket.addEventListener('message', (event: { data: unknown }) => this.onMessage(event.data));
    socket.addEventListener('close', () => this.markClosed());
  }

  /** Opens the websocket; rejects if it cannot (wrong token: the upgrade is refused with 401). */
  static connect(options: ControlConnectOptions): Promise<WsControlClient> {
    return new Promise((resolve, reject) => {
      let socket: WebSocketLike;
      try {
        socket = new options.WebSocket(options.url, [CONTROL_WS_PROTOCOL, CONTROL_WS_TOKEN_PREFIX + options.token]);
      } catch (err) {
        reject(new ControlError('unavailable', `cannot open the control connection: ${(err as Error).message}`));
        return;
      }
      let settled = false;
      socket.addEventListener('open', () => {
        if (settled) return;
        settled = true;
        resolve(new WsControlClient(socket));
      });
      const fail = (event: { message?: string }) => {
        if (settled) return;
        settled = true;
        reject(new ControlError('unavailable', `cannot open the control connection to ${options.url}${event?.message ? `: ${event.message}` : ''}`));
      };
      socket.addEventListener('error', fail);
      socket.addEventListener('close', fail);
    });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  invoke<K extends ControlCommandName>(command: K, params: ControlParams<K>): Promise<ControlResult<K>> {
    return this.request({ id: 0, command, ...(params === undefined ? {} : { params }) }) as Promise<ControlResult<K>>;
  }

  /** The first subscriber starts the server's event stream; the last one to leave stops it. */
  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) void this.request({ id: 0, subscribe: true }).catch(() => undefined);
    return () => {
      if (!this.listeners.delete(listener) || this.listeners.size > 0 || this.isClosed) return;
      void this.request({ id: 0, subscribe: false }).catch(() => undefined);
    };
  }

  /** Told once when the connection ends (whoever ended it). */
  onClose(listener: () => void): () => void {
    if (this.isClosed) {
      listener();
      return () => undefined;
    }
    this.closeListeners.add(listener);
    return () => void this.closeListeners.delete(listener);
  }

  close(): void {
    this.socket.close(1000, 'done');
    this.markClosed();
  }

  private request(message: ControlClientMessage): Promise<unknown> {
    if (this.isClosed || this.socket.readyState !== OPEN) {
      return Promise.reject(new ControlError('unavailable', 'the control connection is closed'));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  private onMessage(data: unknown): void {
    let message: any;
    try {
      message = JSON.parse(typeof data === 'string' ? data : String(data));
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    if ('event' in message) {
      for (const listener of [...this.listeners]) {
        try {
          listener(message.event as RuntimeEvent);
        } catch {
          // one failing view must not starve the others
        }
      }
      return;
    }
    const waiter = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!waiter) return;
    this.pending.delete(message.id);
    if ('error' in message) {
      waiter.reject(isControlErrorPayload(message.error) ? ControlError.fromPayload(message.error) : new ControlError('failed', 'malformed error reply'));
    } else waiter.resolve(message.result);
  }

  private markClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const waiter of this.pending.values()) waiter.reject(new ControlError('unavailable', 'the control connection closed'));
    this.pending.clear();
    for (const listener of [...this.closeListeners]) listener();
    this.closeListeners.clear();
  }
}
