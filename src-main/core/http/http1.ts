/**
 * HTTP/1.1 on the wire, as the reference's client stack (reqwest over hyper) writes and reads it.
 *
 * Writing: the request line, then the headers in HeaderMap order exactly as given (names lower-case,
 * values as UTF-8 bytes) — nothing is added here but what hyper adds: `content-length` for a
 * non-empty body, `, chunked` on a user `transfer-encoding`. hyper's framing rules (and their
 * swap-removes, which reorder headers) are in `frameRequestBody`.
 *
 * Reading: `ResponseDecoder` is an incremental parser with httparse's and hyper's rules and limits:
 * `HTTP/1.0|1.1` status lines with a 100..999 code, token header names directly followed by `:`,
 * values without control characters (obs-text allowed, surrounding whitespace trimmed), LF or CRLF
 * line ends, no obs-fold, at most 100 headers, a head of at most 417,792 bytes (hyper's read buffer),
 * 1xx responses skipped (101 ends the exchange), and the body framed by HEAD/1xx/204/304/CONNECT,
 * then `transfer-encoding` (chunked last → chunked; otherwise read to EOF), then `content-length`
 * (all values must agree), else read to EOF. A body that ends early is a body error.
 */
import { HeaderMap } from './header-map.ts';

/** hyper's `DEFAULT_MAX_HEADERS`. */
export const MAX_RESPONSE_HEADERS = 100;
/** hyper's default read-buffer limit (8192 + 4096 * 100): a longer head is an error. */
export const MAX_RESPONSE_HEAD_BYTES = 8192 + 4096 * 100;

export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

/** All `content-length` values as one number, or null when absent or not all equal valid numbers. */
export function parseContentLength(values: string[]): number | null {
  if (values.length === 0) return null;
  let result: number | null = null;
  for (const value of values) {
    for (const part of value.split(',')) {
      const text = part.trim();
      if (!/^[0-9]+$/.test(text)) return null;
      const n = Number(text);
      if (!Number.isSafeInteger(n) || (result !== null && n !== result)) return null;
      result = n;
    }
  }
  return result;
}

/** Whether the last transfer-coding of the last `transfer-encoding` value is `chunked`. */
export function isChunked(values: string[]): boolean {
  const last = values[values.length - 1];
  if (last === undefined) return false;
  const codings = last.split(',');
  return codings[codings.length - 1]!.trim().toLowerCase() === 'chunked';
}

/**
 * hyper's `set_length` for a request: decides the body framing and edits the headers the way hyper
 * does (swap-removes included). An empty body is no body: `transfer-encoding` is removed and a user
 * `content-length` is left alone. Otherwise a user `transfer-encoding` wins (`, chunked` appended
 * when needed; a valid `content-length` is removed), then a valid user `content-length`, else
 * `content-length: <n>` is inserted (in place of an invalid one).
 */
export function frameRequestBody(headers: HeaderMap, body: Buffer | null): BodyFraming {
  if (body === null || body.length === 0) {
    headers.remove('transfer-encoding');
    return { kind: 'none' };
  }
  const userLength = parseContentLength(headers.getAll('content-length'));
  if (headers.has('transfer-encoding')) {
    const values = headers.getAll('transfer-encoding');
    if (!isChunked(values)) headers.setLast('transfer-encoding', `${values[values.length - 1]}, chunked`);
    if (userLength !== null) headers.remove('content-length');
    return { kind: 'chunked' };
  }
  if (userLength !== null) return { kind: 'length', length: userLength };
  headers.insert('content-length', String(body.length));
  return { kind: 'length', length: body.length };
}

/** The request line and header block. */
export function serializeHead(method: string, target: string, headers: Iterable<readonly [string, string]>): Buffer {
  let text = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of headers) text += `${name}: ${value}\r\n`;
  text += '\r\n';
  return Buffer.from(text, 'utf8');
}

/**
 * The body bytes to write for a framing. `complete` is false when a user `content-length` promised
 * more bytes than the body has (hyper then fails the request); `truncated` when it promised fewer
 * (hyper writes only that many, and the connection stays usable).
 */
export function encodeRequestBody(framing: BodyFraming, body: Buffer | null): { bytes: Buffer; complete: boolean; truncated: boolean } {
  const data = body ?? Buffer.alloc(0);
  switch (framing.kind) {
    case 'none':
      return { bytes: Buffer.alloc(0), complete: true, truncated: false };
    case 'chunked':
      return {
        bytes: Buffer.concat([Buffer.from(`${data.length.toString(16).toUpperCase()}\r\n`), data, Buffer.from('\r\n0\r\n\r\n')]),
        complete: true,
        truncated: false,
      };
    case 'length':
      return {
        bytes: data.subarray(0, Math.min(framing.length, data.length)),
        complete: data.length >= framing.length,
        truncated: data.length > framing.length,
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Response decoding

export interface ResponseHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  status: number;
  /** Header names lower-case, values as Latin-1 (one char per byte), in HeaderMap order. */
  headers: HeaderMap;
  /** Whether the connection may carry another request after this response. */
  keepAlive: boolean;
  /** No body follows and the connection is done with HTTP (101 Switching Protocols, CONNECT 2xx). */
  upgraded: boolean;
}

export type DecoderEvent =
  | { type: 'head'; head: ResponseHead }
  | { type: 'data'; chunk: Buffer }
  | { type: 'end' }
  | { type: 'error'; phase: 'head' | 'body'; reason: string };

type BodyState =
  | { kind: 'length'; remaining: number }
  | { kind: 'eof' }
  | { kind: 'chunked'; state: ChunkState; size: number; digits: number };

type ChunkState = 'size' | 'sizeLws' | 'extension' | 'sizeLf' | 'data' | 'dataCr' | 'dataLf' | 'endCr' | 'endLf' | 'trailer' | 'trailerLf';

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export class ResponseDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private phase: 'head' | 'body' | 'done' | 'failed' = 'head';
  private body: BodyState | null = null;
  private scanFrom = 0;
  /** Whether any response byte has been received. */
  started = false;

  constructor(private readonly requestMethod: string) {}

  get done(): boolean {
    return this.phase === 'done';
  }

  get failed(): boolean {
    return this.phase === 'failed';
  }

  /** Bytes received after the end of the response (a reused connection must have none). */
  get leftover(): number {
    return this.phase === 'done' ? this.buffer.length : 0;
  }

  push(chunk: Buffer): DecoderEvent[] {
    if (this.phase === 'failed') return [];
    if (chunk.length > 0) this.started = true;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return this.run();
  }

  /** The peer closed its side. */
  eof(): DecoderEvent[] {
    const events = this.run();
    if (this.phase === 'head') return [...events, this.fail('head', 'connection closed before message completed')];
    if (this.phase === 'body') {
      if (this.body?.kind === 'eof') {
        this.phase = 'done';
        return [...events, { type: 'end' }];
      }
      return [...events, this.fail('body', 'unexpected end of body')];
    }
    return events;
  }

  private fail(phase: 'head' | 'body', reason: string): DecoderEvent {
    this.phase = 'failed';
    this.buffer = Buffer.alloc(0);
    return { type: 'error', phase, reason };
  }

  private run(): DecoderEvent[] {
    const events: DecoderEvent[] = [];
    while (this.phase === 'head') {
      const event = this.parseHead();
      if (event === null) break;
      if (event === 'skipped') continue;
      events.push(event);
      if (event.type === 'head' && this.done) events.push({ type: 'end' }); // no body follows
    }
    if (this.phase === 'body') events.push(...this.decodeBody());
    return events;
  }

  /** One head (or a skipped 1xx), or null when more bytes are needed. */
  private parseHead(): DecoderEvent | 'skipped' | null {
    const end = findHeadEnd(this.buffer, this.scanFrom);
    if (end < 0) {
      this.scanFrom = Math.max(0, this.buffer.length - 3);
      if (this.buffer.length >= MAX_RESPONSE_HEAD_BYTES) return this.fail('head', 'message head is too large');
      return null;
    }
    if (end > MAX_RESPONSE_HEAD_BYTES) return this.fail('head', 'message head is too large');
    const text = this.buffer.subarray(0, end).toString('latin1');
    this.buffer = this.buffer.subarray(end);
    this.scanFrom = 0;
    const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    const status = /^HTTP\/1\.([01]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(lines[0] ?? '');
    if (!status) return this.fail('head', 'invalid status line');
    const code = Number(status[2]);
    if (code < 100) return this.fail('head', 'invalid status code');
    const headers = new HeaderMap();
    const headerLines = lines.slice(1);
    if (headerLines.length > MAX_RESPONSE_HEADERS) return this.fail('head', 'too many headers');
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon <= 0) return this.fail('head', 'invalid header');
      const name = line.slice(0, colon);
      if (!HEADER_NAME.test(name)) return this.fail('head', 'invalid header name');
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return this.fail('head', 'invalid header value');
      headers.append(name, value);
    }
    if (code >= 100 && code < 200 && code !== 101) return 'skipped'; // informational responses are skipped

    const minorVersion = status[1] === '0' ? 0 : 1;
    const connection = headers.getAll('connection').join(',').toLowerCase().split(',').map((t) => t.trim());
    let keepAlive = minorVersion === 1 ? !connection.includes('close') : connection.includes('keep-alive');
    const method = this.requestMethod; // methods are case-sensitive: `head` is not HEAD
    const upgraded = code === 101 || (method === 'CONNECT' && code >= 200 && code < 300);
    const head: ResponseHead = { minorVersion, status: code, headers, keepAlive, upgraded };

    if (upgraded || method === 'HEAD' || code === 204 || code === 304) {
      this.phase = 'done';
      head.keepAlive = keepAlive && !upgraded;
      return { type: 'head', head };
    }
    if (headers.has('transfer-encoding')) {
      if (minorVersion === 0) return this.fail('head', 'transfer-encoding in HTTP/1.0');
      if (isChunked(headers.getAll('transfer-encoding'))) this.body = { kind: 'chunked', state: 'size', size: 0, digits: 0 };
      else {
        this.body = { kind: 'eof' };
        keepAlive = false;
      }
    } else if (headers.has('content-length')) {
      const length = parseContentLength(headers.getAll('content-length'));
      if (length === null) return this.fail('head', 'invalid content-length');
      this.body = { kind: 'length', remaining: length };
    } else {
      this.body = { kind: 'eof' };
      keepAlive = false;
    }
    head.keepAlive = keepAlive;
    this.phase = 'body';
    return { type: 'head', head };
  }

  private decodeBody(): DecoderEvent[] {
    const body = this.body!;
    const events: DecoderEvent[] = [];
    if (body.kind === 'eof') {
      if (this.buffer.length > 0) events.push({ type: 'data', chunk: this.buffer });
      this.buffer = Buffer.alloc(0);
      return events;
    }
    if (body.kind === 'length') {
      const take = Math.min(body.remaining, this.buffer.length);
      if (take > 0) {
        events.push({ type: 'data', chunk: this.buffer.subarray(0, take) });
        this.buffer = this.buffer.subarray(take);
        body.remaining -= take;
      }
      if (body.remaining === 0) {
        this.phase = 'done';
        events.push({ type: 'end' });
      }
      return events;
    }
    return this.decodeChunked(body, events);
  }

  private decodeChunked(body: Extract<BodyState, { kind: 'chunked' }>, events: DecoderEvent[]): DecoderEvent[] {
    const buf = this.buffer;
    let i = 0;
    const bad = (reason: string) => {
      events.push(this.fail('body', reason));
      return events;
    };
    while (i < buf.length) {
      if (body.state === 'data') {
        const take = Math.min(body.size, buf.length - i);
        events.push({ type: 'data', chunk: buf.subarray(i, i + take) });
        i += take;
        body.size -= take;
        if (body.size === 0) body.state = 'dataCr';
        continue;
      }
      const b = buf[i++]!;
      switch (body.state) {
        case 'size': {
          const digit = hexValue(b);
          if (digit >= 0) {
            if (++body.digits > 15) return bad('invalid chunk size: overflow');
            body.size = body.size * 16 + digit;
          } else if (body.digits === 0) return bad('invalid chunk size');
          else if (b === 0x20 || b === 0x09) body.state = 'sizeLws';
          else if (b === 0x3b) body.state = 'extension';
          else if (b === 0x0d) body.state = 'sizeLf';
          else return bad('invalid chunk size');
          break;
        }
        case 'sizeLws':
          if (b === 0x3b) body.state = 'extension';
          else if (b === 0x0d) body.state = 'sizeLf';
          else if (b !== 0x20 && b !== 0x09) return bad('invalid chunk size linear white space');
          break;
        case 'extension':
          if (b === 0x0d) body.state = 'sizeLf';
          else if (b === 0x0a) return bad('invalid chunk extension contains newline');
          break;
        case 'sizeLf':
          if (b !== 0x0a) return bad('invalid chunk size LF');
          if (body.size === 0) body.state = 'endCr';
          else body.state = 'data';
          break;
        case 'dataCr':
          if (b !== 0x0d) return bad('invalid chunk body CR');
          body.state = 'dataLf';
          break;
        case 'dataLf':
          if (b !== 0x0a) return bad('invalid chunk body LF');
          body.state = 'size';
          body.size = 0;
          body.digits = 0;
          break;
        case 'endCr':
          body.state = b === 0x0d ? 'endLf' : 'trailer';
          break;
        case 'trailer':
          if (b === 0x0d) body.state = 'trailerLf';
          break;
        case 'trailerLf':
          if (b !== 0x0a) return bad('invalid trailer end LF');
          body.state = 'endCr';
          break;
        case 'endLf':
          if (b !== 0x0a) return bad('invalid chunk end LF');
          this.phase = 'done';
          this.buffer = buf.subarray(i);
          events.push({ type: 'end' });
          return events;
      }
    }
    this.buffer = Buffer.alloc(0);
    return events;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}

/** Index just past the blank line that ends a head (LF or CRLF line ends), or -1. */
function findHeadEnd(buf: Buffer, from: number): number {
  let i = buf.indexOf(0x0a, from);
  while (i >= 0) {
    const next = buf[i + 1];
    if (next === 0x0a) return i + 2;
    if (next === 0x0d && buf[i + 2] === 0x0a) return i + 3;
    if (next === undefined || (next === 0x0d && buf[i + 2] === undefined)) return -1;
    i = buf.indexOf(0x0a, i + 1);
  }
  return -1;
}
