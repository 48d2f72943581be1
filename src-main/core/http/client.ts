/**
 * The HTTP client behind `http/request`: one request, its redirects, its deadline, and a response
 * whose body is read whole or streamed. It reproduces what the reference's client (reqwest/hyper
 * behind codex's route-aware pool) puts on the wire and how it fails:
 *
 * - request headers: URL credentials become `authorization: Basic …`, the caller's headers replace
 *   it by name (grouped by name, duplicates kept), then `accept` (any type) and `host` unless given, then
 *   hyper's body framing (see http1.ts); through an HTTP proxy the request is in absolute form and
 *   gets `proxy-authorization` from the proxy URL unless given;
 * - redirects (policy `follow`): 301/302/303/307/308 with a visible-ASCII `location` that parses
 *   against the current URL; at most 10, the 11th fails (`too many redirects`); a non-http(s)
 *   target fails; 303 turns anything but HEAD into GET, 301/302 turn POST into GET — those drop the
 *   body and swap-remove `content-type`, `content-encoding`, `content-length`, `transfer-encoding`;
 *   a change of host or port swap-removes `authorization`, `cookie`, `cookie2`,
 *   `proxy-authorization`, `www-authenticate`; any `referer` is swap-removed and the new one appended:
 *   the previous URL (same origin), its origin (cross-origin), or none (https → http);
 * - one deadline covers connecting, every hop and the whole body.
 *
 * Errors carry the text that follows `http/request failed: ` in the reference's -32603 message.
 */
import type net from 'node:net';
import { HeaderMap } from './header-map.ts';
import { encodeRequestBody, frameRequestBody, ResponseDecoder, serializeHead, type DecoderEvent, type ResponseHead } from './http1.ts';
import {
  ClientConfigError,
  ConnectionPool,
  connect,
  guardedLookup,
  originOf,
  proxyFor,
  tlsRoots,
  type Env,
  type LookupFunction,
} from './transport.ts';
import { displayUrl, isVisibleAscii } from './validate.ts';

export type RedirectPolicy = 'follow' | 'stop';

export interface HttpRequestInput {
  method: string;
  /** An absolute http: or https: URL. */
  url: URL;
  /** Validated names and final values, in the caller's order. */
  headers: Array<[string, string]>;
  body: Buffer | null;
  redirect: RedirectPolicy;
  /** Null: no deadline. */
  timeoutMs: number | null;
}

export interface ClientOptions {
  /** Proxies and custom CA are read from here (the server's environment). */
  env: Env;
  /** Aborts everything (the connection that asked went away). */
  signal?: AbortSignal;
  pool?: ConnectionPool;
  lookup?: LookupFunction;
}

/** A request failure; `message` is what follows `http/request failed: `. */
export class HttpRequestError extends Error {}

/** The body could not be read to its end (truncated, malformed, timed out). */
export class BodyReadError extends Error {
  constructor() {
    super('error decoding response body');
  }
}

/** The redirect limit reqwest uses by default, kept by the reference's own redirect loop. */
export const MAX_REDIRECTS = 10;
/** The reference's timer cannot exceed this; longer deadlines are treated as none. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface BodySink {
  data(chunk: Buffer): void;
  end(): void;
  error(err: BodyReadError): void;
}

export interface HttpResponse {
  status: number;
  /** Names lower-case, values as Latin-1 strings (one char per byte), HeaderMap order. */
  headers: HeaderMap;
  /** Starts delivering the body; exactly one of `end`/`error` follows the data. */
  pipe(sink: BodySink): void;
  /** Reads the whole body; rejects with BodyReadError, or with `tooLarge` beyond `limit` bytes. */
  readAll(limit: number, tooLarge: () => Error): Promise<Buffer>;
  /** Abandons the body and closes the connection. */
  destroy(): void;
  /** Stops reading the body from the socket (the server then waits on TCP flow control). */
  pause(): void;
  /** Undoes `pause`. */
  resume(): void;
}

const shared = new ConnectionPool();

/** The process-wide keep-alive pool (tests may pass their own). */
export function sharedPool(): ConnectionPool {
  return shared;
}

/** `route-aware request timed out` — the reference's answer to `timeoutMs: 0`. */
export const ZERO_TIMEOUT_MESSAGE = 'route-aware request timed out';

/**
 * Performs the request and resolves once the final response head is in; the body follows through
 * the response. Rejects with HttpRequestError (texts as the reference's) or the abort reason.
 */
export async function executeHttpRequest(input: HttpRequestInput, options: ClientOptions): Promise<HttpResponse> {
  const roots = (() => {
    try {
      return tlsRoots(options.env);
    } catch (err) {
      if (err instanceof ClientConfigError) throw new HttpRequestError(err.message);
      throw err;
    }
  })();
  if (input.timeoutMs === 0) throw new HttpRequestError(ZERO_TIMEOUT_MESSAGE);

  const control = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  if (input.timeoutMs !== null && input.timeoutMs <= MAX_TIMER_MS) {
    timer = setTimeout(() => control.abort(new Error('timed out')), input.timeoutMs);
  }
  const onOuterAbort = () => control.abort(options.signal!.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const finish = () => {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  };
  if (options.signal?.aborted) onOuterAbort();

  const ctx: HopContext = {
    env: options.env,
    pool: options.pool ?? shared,
    lookup: options.lookup ?? guardedLookup,
    roots,
    policy: input.redirect,
    signal: control.signal,
  };

  let url = new URL(input.url.href);
  let method = input.method;
  let body = input.body;
  const stored = new HeaderMap();
  const credentials = takeCredentials(url);
  url = credentials.url;
  if (credentials.authorization) stored.insert('authorization', credentials.authorization);
  stored.replaceFrom(HeaderMap.from(input.headers));

  try {
    for (let redirects = 0; ; redirects++) {
      let exchange: Exchange;
      try {
        exchange = await sendOnce(url, method, stored, body, ctx);
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason ?? err;
        throw new HttpRequestError(`error sending request for url (${displayUrl(url)})`);
      }
      const head = exchange.head!;
      const next = input.redirect === 'follow' ? redirectTarget(head, url) : null;
      if (next === null) {
        return exchange.response(control.signal, finish);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        exchange.destroy();
        throw new HttpRequestError(`redirect target uses unsupported URL scheme: ${next.protocol.slice(0, -1)}`);
      }
      if (redirects >= MAX_REDIRECTS) {
        exchange.destroy();
        throw new HttpRequestError('too many redirects');
      }
      exchange.discard();

      const status = head.status;
      // Methods compare case-sensitively (`post` is an extension method, not POST).
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        if (method !== 'HEAD') method = 'GET';
        body = null;
        for (const name of ['content-type', 'content-encoding', 'content-length', 'transfer-encoding']) stored.remove(name);
      }
      const target = takeCredentials(next);
      if (crossHost(url, target.url)) {
        for (const name of ['authorization', 'cookie', 'cookie2', 'proxy-authorization', 'www-authenticate']) stored.remove(name);
      }
      if (target.authorization) stored.insert('authorization', target.authorization);
      // The previous referer goes (swap-removed) even when no new one is set (https → http).
      stored.remove('referer');
      const referer = refererFor(target.url, url);
      if (referer !== null) stored.append('referer', referer);
      url = target.url;
    }
  } catch (err) {
    finish();
    throw err;
  }
}

/** The redirect URL a response asks for, or null (not a redirect, no usable location). */
function redirectTarget(head: ResponseHead, current: URL): URL | null {
  if (![301, 302, 303, 307, 308].includes(head.status)) return null;
  const location = head.headers.get('location');
  if (location === undefined || !isVisibleAscii(location)) return null;
  try {
    return new URL(location, current);
  } catch {
    return null;
  }
}

/** reqwest's `remove_sensitive_headers` test: host or port (with scheme defaults) differ. */
function crossHost(previous: URL, next: URL): boolean {
  return previous.hostname !== next.hostname || originOf(previous).port !== originOf(next).port;
}

function refererFor(next: URL, previous: URL): string | null {
  if (previous.protocol === 'https:' && next.protocol === 'http:') return null;
  if (previous.origin === next.origin) {
    const copy = new URL(previous.href);
    copy.hash = '';
    return copy.href.replace(/#$/, '');
  }
  return `${previous.origin}/`;
}

/** Removes userinfo from a URL, returning the `Basic` authorization reqwest derives from it. */
function takeCredentials(url: URL): { url: URL; authorization: string | null } {
  if (url.username === '' && url.password === '') return { url, authorization: null };
  const copy = new URL(url.href);
  const pair = `${safeDecode(copy.username)}:${safeDecode(copy.password)}`;
  copy.username = '';
  copy.password = '';
  return { url: copy, authorization: `Basic ${Buffer.from(pair, 'utf8').toString('base64')}` };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Path and query as serialized (a bare `?` kept), without the fragment. */
function originForm(url: URL): string {
  const href = url.href;
  const start = href.indexOf('/', url.protocol.length + 2);
  const path = start < 0 ? '/' : href.slice(start);
  const hash = path.indexOf('#');
  return hash < 0 ? path : path.slice(0, hash);
}

interface HopContext {
  env: Env;
  pool: ConnectionPool;
  lookup: LookupFunction;
  roots: ReturnType<typeof tlsRoots>;
  policy: RedirectPolicy;
  signal: AbortSignal;
}

/** Sends one request on a pooled or new connection; resolves when its response head is in. */
async function sendOnce(url: URL, method: string, stored: HeaderMap, body: Buffer | null, ctx: HopContext): Promise<Exchange> {
  const origin = originOf(url);
  const proxy = proxyFor(url, ctx.env);
  const forward = proxy !== null && origin.scheme === 'http';
  const headers = stored.clone();
  if (!headers.has('accept')) headers.append('accept', '*/*');
  if (forward && proxy.authorization && !headers.has('proxy-authorization')) headers.append('proxy-authorization', proxy.authorization);
  if (!headers.has('host')) headers.append('host', url.host);
  const framing = frameRequestBody(headers, body);
  const path = originForm(url);
  const target =
    method === 'CONNECT'
      ? `${url.hostname}:${origin.port}`
      : forward
        ? `${url.protocol}//${url.host}${path}`
        : path;
  const encoded = encodeRequestBody(framing, body);
  const request = Buffer.concat([serializeHead(method, target, headers.pairs()), encoded.bytes]);
  const requestReusable = !connectionClose(headers);
  const key = [ctx.policy, proxy?.key ?? 'direct', ctx.roots.key, origin.scheme, origin.host, origin.port].join('|');

  for (let attempt = 0; ; attempt++) {
    let socket = attempt === 0 ? ctx.pool.take(key) : undefined;
    const reused = socket !== undefined;
    socket ??= await connect(origin, { roots: ctx.roots, proxy, lookup: ctx.lookup, signal: ctx.signal });
    const exchange = new Exchange(socket, method, (s, reusable) => {
      if (reusable && requestReusable) ctx.pool.put(key, s);
      else s.destroy();
    });
    try {
      await exchange.send(request, encoded.complete, ctx.signal);
      return exchange;
    } catch (err) {
      // A pooled connection the server had already closed: hyper retries on a new one.
      if (reused && !exchange.responseStarted && !ctx.signal.aborted && !(err instanceof ShortBodyError)) continue;
      throw err;
    }
  }
}

function connectionClose(headers: HeaderMap): boolean {
  return headers
    .getAll('connection')
    .join(',')
    .toLowerCase()
    .split(',')
    .some((t) => t.trim() === 'close');
}

/** A user content-length longer than the body: the request cannot be completed (not retried). */
class ShortBodyError extends Error {
  constructor() {
    super('request body shorter than its content-length');
  }
}

type BodyEvent = { type: 'data'; chunk: Buffer } | { type: 'end' } | { type: 'error' };

/**
 * One request/response on a socket. The head resolves `send`; body events are queued until a
 * consumer attaches (the socket is paused meanwhile, so an unread body applies backpressure).
 * When the body ends, the socket goes back to the pool if both sides allow keep-alive and nothing
 * unexpected followed the response.
 */
class Exchange {
  head: ResponseHead | null = null;
  private readonly decoder: ResponseDecoder;
  private readonly queue: BodyEvent[] = [];
  private sink: BodySink | null = null;
  private settled = false;
  private released = false;
  private headWaiter: { resolve: () => void; reject: (err: Error) => void } | null = null;
  private onBodyDone: (() => void) | null = null;
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];

  constructor(
    private readonly socket: net.Socket,
    method: string,
    private readonly release: (socket: net.Socket, reusable: boolean) => void,
  ) {
    this.decoder = new ResponseDecoder(method);
  }

  get responseStarted(): boolean {
    return this.decoder.started;
  }

  private listen(event: string, fn: (...args: any[]) => void): void {
    this.socket.on(event, fn);
    this.listeners.push([event, fn]);
  }

  send(request: Buffer, bodyComplete: boolean, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.headWaiter = { resolve, reject };
      const onAbort = () => this.fail(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      this.listeners.push(['__abort', () => signal.removeEventListener('abort', onAbort)]);
      this.listen('data', (chunk: Buffer) => this.handle(this.decoder.push(chunk)));
      this.listen('end', () => this.handle(this.decoder.eof()));
      this.listen('error', (err: Error) => this.fail(err));
      this.listen('close', () => this.fail(new Error('connection closed')));
      if (signal.aborted) return onAbort();
      this.socket.resume();
      this.socket.write(request);
      // A user content-length longer than the body: hyper gives up once the body runs out.
      if (!bodyComplete) this.fail(new ShortBodyError());
    });
  }

  private handle(events: DecoderEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'head':
          this.head = event.head;
          this.socket.pause();
          this.headWaiter?.resolve();
          this.headWaiter = null;
          break;
        case 'data':
          if (event.chunk.length > 0) this.deliver({ type: 'data', chunk: event.chunk });
          break;
        case 'end':
          this.deliver({ type: 'end' });
          break;
        case 'error':
          if (event.phase === 'head') this.fail(new Error(event.reason));
          else this.deliver({ type: 'error' });
          break;
      }
    }
  }

  private deliver(event: BodyEvent): void {
    if (this.settled) return;
    if (event.type !== 'data') this.settled = true;
    if (this.sink) this.dispatch(event);
    else this.queue.push(event);
    if (event.type === 'end') this.finishSocket();
    if (event.type === 'error') this.teardown();
  }

  private dispatch(event: BodyEvent): void {
    const sink = this.sink!;
    if (event.type === 'data') sink.data(event.chunk);
    else {
      this.onBodyDone?.();
      if (event.type === 'end') sink.end();
      else sink.error(new BodyReadError());
    }
  }

  /** Head-phase failure rejects `send`; body-phase failure ends the body with an error. */
  private fail(err: Error): void {
    if (this.headWaiter) {
      const waiter = this.headWaiter;
      this.headWaiter = null;
      this.settled = true;
      this.teardown();
      waiter.reject(err);
      return;
    }
    if (this.head && !this.settled) this.deliver({ type: 'error' });
    else this.teardown();
  }

  private detachListeners(): void {
    for (const [event, fn] of this.listeners.splice(0)) {
      if (event === '__abort') fn();
      else this.socket.off(event, fn);
    }
  }

  private finishSocket(): void {
    if (this.released) return;
    this.released = true;
    this.detachListeners();
    const reusable = this.head!.keepAlive && !this.head!.upgraded && this.decoder.leftover === 0;
    this.release(this.socket, reusable);
  }

  private teardown(): void {
    if (this.released) return;
    this.released = true;
    this.detachListeners();
    this.socket.destroy();
  }

  /** Throws the 3xx body away: the connection is reused only if that body already ended. */
  discard(): void {
    if (this.queue.some((e) => e.type === 'end')) this.finishSocket();
    else {
      this.settled = true;
      this.teardown();
    }
  }

  destroy(): void {
    this.settled = true;
    this.teardown();
  }

  /** The final response; `done` runs once the body has ended, failed or been abandoned. */
  response(signal: AbortSignal, done: () => void): HttpResponse {
    const head = this.head!;
    let finished = false;
    const finishOnce = () => {
      if (finished) return;
      finished = true;
      signal.removeEventListener('abort', onAbort);
      done();
    };
    const onAbort = () => this.fail(new Error('aborted'));
    this.onBodyDone = finishOnce;
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const pipe = (sink: BodySink) => {
      if (this.sink) throw new Error('body already consumed');
      this.sink = sink;
      for (const event of this.queue.splice(0)) this.dispatch(event);
      if (!this.released) this.socket.resume();
    };
    return {
      status: head.status,
      headers: head.headers,
      pipe,
      readAll: (limit, tooLarge) =>
        new Promise<Buffer>((resolve, reject) => {
          const parts: Buffer[] = [];
          let size = 0;
          let over = false;
          pipe({
            data: (chunk) => {
              if (over) return;
              size += chunk.length;
              if (size > limit) {
                over = true;
                this.destroyBody();
                reject(tooLarge());
                return;
              }
              parts.push(chunk);
            },
            end: () => resolve(Buffer.concat(parts, size)),
            error: (err) => reject(err),
          });
        }),
      destroy: () => {
        this.destroyBody();
      },
      pause: () => {
        if (!this.released) this.socket.pause();
      },
      resume: () => {
        if (!this.released && this.sink) this.socket.resume();
      },
    };
  }

  private destroyBody(): void {
    this.settled = true;
    this.teardown();
    this.onBodyDone?.();
  }
}
