/**
 * `http/request` and its `http/request/bodyDelta` notifications (local-protocol.md §8, with the
 * 0.169.0 binary's behaviour where it says more; see README.md in this folder).
 *
 * Order of checks, as the reference makes them: params (serde texts), then — for streamed requests —
 * the requestId among this connection's active streams, then the method, the URL, the scheme, each
 * header in order (name, environment variable, value), then the HTTP client's configuration (custom
 * CA), then `timeoutMs: 0`. Only then does anything touch the network.
 *
 * Buffered: the result carries the whole body. Streamed: the result carries status and headers with
 * `bodyBase64: ""`, and the body follows as notifications (seq from 1, data deltas, then one final
 * `done: true` with an empty delta and `error` null or `"error decoding response body"`). The body
 * pump is a background task of the connection: it never holds a request slot, and it dies with the
 * connection (the upstream socket is closed), as do the connection's requestIds.
 *
 * Header values that come from `valueEnvVar` are never logged or echoed.
 */
import { ErrorCode, RpcError } from '../rpc/errors.ts';
import { DRAIN_POLL_MS, type ConnectionScope, type MethodSpec } from '../rpc/method-table.ts';
import { Method, Notification } from '../protocol/methods.ts';
import { base64Bytes, bool, decodeParams, option, seq, string, struct, u64, unitEnum, withDefault } from '../protocol/serde.ts';
import { BodyReadError, executeHttpRequest, HttpRequestError, type ClientOptions, type HttpResponse } from './client.ts';
import { isValidHeaderName, isValidHeaderValue, isValidMethod, isVisibleAscii, parseRequestUrl } from './validate.ts';
import type { Env } from './transport.ts';

export const HttpHeader = struct('HttpHeader', {
  name: string(),
  value: string(),
  valueEnvVar: withDefault(option(string()), null),
});

export const HttpRequestParams = struct('HttpRequestParams', {
  method: string(),
  url: string(),
  headers: withDefault(seq(HttpHeader), () => []),
  bodyBase64: withDefault(option(base64Bytes()), null),
  timeoutMs: withDefault(option(u64()), null),
  redirectPolicy: withDefault(unitEnum(['follow', 'stop'] as const), 'follow'),
  requestId: string(),
  streamResponse: withDefault(bool(), false),
});

export type HttpRequestParams = ReturnType<typeof HttpRequestParams.decode>;

/** Largest delta payload; the reference's deltas were up to ~0.5 MB (its source caps them at 1 MiB). */
export const MAX_DELTA_BYTES = 512 * 1024;
/**
 * A buffered body larger than this is refused (exec-desk's own limit: its base64 and JSON text must
 * fit in one JavaScript string). Larger bodies can be streamed.
 */
export const MAX_BUFFERED_BODY_BYTES = 256 * 1024 * 1024;

const BODY_ERROR = 'error decoding response body';

/** Per-connection state: active streamed requestIds and the cleanup of each live request. */
interface HttpConnectionState {
  activeStreams: Set<string>;
  live: Set<() => void>;
}

const STATE_KEY = Symbol('http/request');

function connectionState(connection: ConnectionScope): HttpConnectionState {
  let state = connection.state.get(STATE_KEY) as HttpConnectionState | undefined;
  if (!state) {
    const created: HttpConnectionState = { activeStreams: new Set(), live: new Set() };
    connection.state.set(STATE_KEY, created);
    connection.onClose(() => {
      for (const stop of [...created.live]) stop();
      created.live.clear();
      created.activeStreams.clear();
    });
    state = created;
  }
  return state;
}

export interface HttpMethodOptions {
  /** The executor's environment (valueEnvVar, proxies, custom CA); default process.env. */
  env?: () => Env;
  /** Client overrides for tests (pool, resolver). */
  client?: Omit<ClientOptions, 'env' | 'signal'>;
  /** Buffered-body limit (default MAX_BUFFERED_BODY_BYTES). */
  maxBufferedBytes?: number;
}

function invalidParams(message: string): never {
  throw new RpcError(ErrorCode.InvalidParams, message);
}

/**
 * A variable of the executor's environment, as Rust's `std::env::var` sees it: only real entries
 * (not inherited object properties such as `toString`), and never for names with `=` or NUL.
 */
function envValue(env: Env, name: string): string | undefined {
  if (name === '' || name.includes('=') || name.includes('\0') || !Object.hasOwn(env, name)) return undefined;
  const value = env[name];
  return typeof value === 'string' ? value : undefined;
}

/** The request the client will send: validated method, URL and headers with final values. */
function prepare(params: HttpRequestParams, env: Env) {
  if (!isValidMethod(params.method)) invalidParams('http/request method is invalid: invalid HTTP method');
  const parsed = parseRequestUrl(params.url);
  if (!parsed.ok) invalidParams(parsed.message);
  const headers: Array<[string, string]> = [];
  for (const header of params.headers) {
    if (!isValidHeaderName(header.name)) invalidParams('http/request header name is invalid: invalid HTTP header name');
    let value = header.value;
    if (header.valueEnvVar !== null) {
      const variable = header.valueEnvVar;
      const fromEnv = envValue(env, variable);
      if (fromEnv === undefined) invalidParams(`http/request header ${header.name} requires executor environment variable ${variable}`);
      if (fromEnv === '') invalidParams(`http/request header ${header.name} requires a non-empty executor environment variable ${variable}`);
      value += fromEnv;
    }
    if (!isValidHeaderValue(value)) invalidParams(`http/request header value is invalid for ${header.name}: failed to parse header value`);
    headers.push([header.name.toLowerCase(), value]);
  }
  return { url: parsed.url, headers };
}

/** Response headers as the reference reports them: HeaderMap order, values that are not visible ASCII left out. */
function wireHeaders(response: HttpResponse): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, value] of response.headers.pairs()) if (isVisibleAscii(value)) out.push({ name, value });
  return out;
}

/** Streams a response body as bodyDelta notifications; calls `done` after the final one. */
function pumpBody(response: HttpResponse, requestId: string, connection: ConnectionScope, done: () => void): () => void {
  let seq = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let scheduled: NodeJS.Immediate | null = null;
  let finished = false;
  const send = (delta: Buffer, final: boolean, error: string | null) => {
    connection.notify(Notification.HttpRequestBodyDelta, {
      requestId,
      seq: ++seq,
      deltaBase64: delta.toString('base64'),
      done: final,
      error,
    });
  };
  // A slow client must not make the executor buffer the whole body: while the connection is
  // congested the upstream socket is paused (the server then waits on TCP flow control), and a
  // short poll resumes it once the connection has drained, as process output does.
  let drainTimer: NodeJS.Timeout | null = null;
  const waitForDrain = () => {
    drainTimer = null;
    if (finished) return;
    if (connection.congested()) drainTimer = setTimeout(waitForDrain, DRAIN_POLL_MS);
    else response.resume();
  };
  const flush = () => {
    if (scheduled) clearImmediate(scheduled);
    scheduled = null;
    if (pendingBytes === 0) return;
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    for (let offset = 0; offset < all.length; offset += MAX_DELTA_BYTES) send(all.subarray(offset, offset + MAX_DELTA_BYTES), false, null);
    if (drainTimer === null && connection.congested()) {
      response.pause();
      drainTimer = setTimeout(waitForDrain, DRAIN_POLL_MS);
    }
  };
  const finish = (error: string | null) => {
    if (finished) return;
    finished = true;
    flush();
    if (drainTimer) clearTimeout(drainTimer);
    send(Buffer.alloc(0), true, error);
    done();
  };
  response.pipe({
    data: (chunk) => {
      if (finished) return;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= MAX_DELTA_BYTES) flush();
      else scheduled ??= setImmediate(flush);
    },
    end: () => finish(null),
    error: () => finish(BODY_ERROR),
  });
  // The connection went away: stop quietly (nobody is left to notify) and close the upstream socket.
  return () => {
    if (finished) return;
    finished = true;
    if (scheduled) clearImmediate(scheduled);
    if (drainTimer) clearTimeout(drainTimer);
    response.destroy();
  };
}

async function handleHttpRequest(params: HttpRequestParams, connection: ConnectionScope, signal: AbortSignal, options: HttpMethodOptions): Promise<unknown> {
  const state = connectionState(connection);
  const env = options.env?.() ?? process.env;
  const { requestId, streamResponse } = params;
  if (streamResponse) {
    if (state.activeStreams.has(requestId)) invalidParams(`http/request streamResponse requestId \`${requestId}\` is already active`);
    state.activeStreams.add(requestId);
  }
  const releaseId = () => {
    if (streamResponse) state.activeStreams.delete(requestId);
  };
  // Until its body is read (buffered) or handed to the pump (streamed), the request dies with the
  // connection: the processor aborts `signal`, and a closing connection stops everything it started.
  const abort = new AbortController();
  const stopRequest = () => abort.abort(new Error('connection closed'));
  signal.addEventListener('abort', stopRequest, { once: true });
  state.live.add(stopRequest);
  const settled = () => {
    signal.removeEventListener('abort', stopRequest);
    state.live.delete(stopRequest);
  };
  let response: HttpResponse;
  try {
    const { url, headers } = prepare(params, env);
    response = await executeHttpRequest(
      {
        method: params.method,
        url,
        headers,
        body: params.bodyBase64,
        redirect: params.redirectPolicy,
        timeoutMs: params.timeoutMs,
      },
      { ...options.client, env, signal: abort.signal },
    );
  } catch (err) {
    settled();
    releaseId();
    if (err instanceof HttpRequestError) throw RpcError.internal(`http/request failed: ${err.message}`);
    throw err;
  }

  const result = { status: response.status, headers: wireHeaders(response), bodyBase64: '' };
  if (!streamResponse) {
    try {
      const limit = options.maxBufferedBytes ?? MAX_BUFFERED_BODY_BYTES;
      const body = await response.readAll(limit, () => new BodyTooLarge(limit));
      return { ...result, bodyBase64: body.toString('base64') };
    } catch (err) {
      if (err instanceof BodyReadError) throw RpcError.internal(`failed to read http/request response body: ${BODY_ERROR}`);
      if (err instanceof BodyTooLarge) throw RpcError.internal(`failed to read http/request response body: ${err.message}`);
      throw err;
    } finally {
      settled();
    }
  }
  settled();

  // The response goes out first; the body pump starts after it (a macrotask runs after the
  // processor's microtask that sends the result).
  let stopPump: (() => void) | null = null;
  const stop = () => (stopPump ? stopPump() : response.destroy());
  state.live.add(stop);
  setImmediate(() => {
    if (!state.live.has(stop)) return; // the connection closed before the pump started
    stopPump = pumpBody(response, requestId, connection, () => {
      state.live.delete(stop);
      releaseId();
    });
  });
  return result;
}

class BodyTooLarge extends Error {
  constructor(limit: number) {
    super(`response body is larger than ${limit} bytes (exec-desk's buffered limit); use streamResponse`);
  }
}

export function createHttpMethods(options: HttpMethodOptions = {}): Array<[string, MethodSpec]> {
  return [
    [
      Method.HttpRequest,
      {
        decode: (params) => decodeParams(HttpRequestParams, params),
        handle: (params: HttpRequestParams, { connection, signal }) => handleHttpRequest(params, connection, signal, options),
      },
    ],
  ];
}

export const httpMethods: Array<[string, MethodSpec]> = createHttpMethods();
